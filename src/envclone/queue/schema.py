"""procrastinate's tables and functions in the environment's PostgreSQL, created by the first
process that starts (API or worker) under a lock, so that several starting at once create them
once. An upgrade of procrastinate that changes its schema ships migrations: docs/scale-out.md."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from envclone.store.database import Database

log = logging.getLogger("envclone.queue")


def install_schema(db: Database) -> bool:
    """Create procrastinate's schema unless it exists; True if it was created now. The caller holds
    the start-up lock (store.locks)."""
    from procrastinate.schema import SchemaManager  # only where the queue is used (distributed)

    with db.begin() as conn:
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False
        # Its own script, many statements and no parameters: run as it is on the driver's cursor.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(SchemaManager.get_schema())
        finally:
            cursor.close()
    log.info("created the task queue's schema (procrastinate)")
    return True


def live_workers(db: Database, within_seconds: float) -> int:
    """How many queue workers beat within the last ``within_seconds`` (none without the schema)."""
    if db.is_sqlite:
        return 0
    with db.read() as conn:
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_workers')")).scalar() is None:
            return 0
        query = sa.text(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :secs)"
        )
        return int(conn.execute(query, {"secs": within_seconds}).scalar_one())
