"""procrastinate's tables and functions in the environment's PostgreSQL: created by the first
process that starts (API or worker), and brought up to the installed procrastinate's version by the
first process of a newer version, under an advisory lock, so that several starting at once create
or upgrade them once.

procrastinate ships its schema (``schema.sql``, the current version) and one migration script per
change (``migrations/MM.mm.pp_NN_*.sql``). Which scripts a database has had is recorded here, in
``envclone_queue_migrations`` (one row per script: procrastinate keeps no such record). A script
is either a *pre* migration, which old and new code both work with, or a *post* migration
(``_50_post_`` in its name, since 3.0), which removes what the older code calls: a post migration
waits while live workers beat (one may be of the older version) and is applied by the next process
that starts with none. docs/scale-out.md, "procrastinate upgrades"."""

from __future__ import annotations

import importlib.metadata
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from envclone.store import locks
from envclone.store.database import Database

log = logging.getLogger("envclone.queue")

SCHEMA_LOCK = "queue-schema"
RECORD = "envclone_queue_migrations"
_RECORDED = f"SELECT name FROM {RECORD}"  # noqa: S608  (a constant name, no input)
_RECORD_ONE = f"INSERT INTO {RECORD} (name, applied_at) VALUES (:name, now()) ON CONFLICT DO NOTHING"  # noqa: S608
_NAME = re.compile(r"^(\d+)\.(\d+)\.(\d+)_(\d+)_.*\.sql$")
Version = tuple[int, int, int]


@dataclass
class SchemaChange:
    """What ``install_schema`` did: created the schema, applied scripts, or left post migrations
    for later (live workers)."""

    created: bool = False
    applied: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


def installed_version() -> Version:
    return parse_version(importlib.metadata.version("procrastinate"))


def parse_version(text: str) -> Version:
    major, minor, patch = (re.match(r"\d+", part) for part in [*text.split(".")[:3], "0", "0"][:3])
    return (int(major.group()) if major else 0, int(minor.group()) if minor else 0, int(patch.group()) if patch else 0)


def script_version(name: str) -> Version | None:
    found = _NAME.match(name)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def is_post(name: str) -> bool:
    return "_post_" in name


def migrations_path() -> Path:
    """procrastinate's migration scripts (imported here: only processes that use the queue load it)."""
    from procrastinate.schema import SchemaManager

    return Path(SchemaManager.get_migrations_path())


def scripts(migrations: Path | None = None, up_to: Version | None = None) -> list[str]:
    """The migration scripts, oldest first, of versions up to ``up_to`` (all by default)."""
    folder = migrations or migrations_path()
    found = [(v, p.name) for p in folder.glob("*.sql") if (v := script_version(p.name)) is not None]
    return [name for v, name in sorted(found) if up_to is None or v <= up_to]


def install_schema(
    db: Database,
    *,
    migrations: Path | None = None,
    version: Version | None = None,
    live_within_seconds: float = 60.0,
) -> SchemaChange:
    """Create procrastinate's schema if it is missing, else apply the migration scripts it has not
    had (up to ``version``, the installed procrastinate's by default), each in a transaction of its
    own. Safe when several processes call it at once (an advisory lock of its own; the callers
    also hold the start-up lock)."""
    version = version or installed_version()
    migrations = migrations or migrations_path()
    wanted = scripts(migrations, version)
    change = SchemaChange()
    with locks.held(db, SCHEMA_LOCK):
        with db.begin() as conn:
            conn.execute(
                sa.text(f"CREATE TABLE IF NOT EXISTS {RECORD} (name text PRIMARY KEY, applied_at timestamptz NOT NULL)")
            )
            exists = conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None
            if not exists:
                from procrastinate.schema import SchemaManager

                _run_script(conn, SchemaManager.get_schema())
                _record(conn, wanted)  # schema.sql is every script up to this version
                change.created = True
                log.info("created the task queue's schema (procrastinate %s)", ".".join(map(str, version)))
                return change
            done = {row[0] for row in conn.execute(sa.text(_RECORDED))}
            if not done:
                # Made before this record existed (by envclone with procrastinate 3.0 or later):
                # what it has is told by the newest objects the scripts created.
                baseline = scripts(migrations, _probe_version(conn))
                _record(conn, baseline)
                done = set(baseline)
        pending = [name for name in wanted if name not in done]
        if not pending:
            return change
        workers = _live_workers(db, live_within_seconds)
        for name in pending:
            if is_post(name) and workers:
                # The pre migrations after it still run: the new code needs them, and they only
                # add (procrastinate's rule for pre migrations).
                change.deferred.append(name)
                continue
            with db.begin() as conn:
                _run_script(conn, (migrations / name).read_text())
                _record(conn, [name])
            change.applied.append(name)
            log.info("task queue schema: applied procrastinate migration %s", name)
    if change.deferred:
        log.warning(
            "task queue schema: %d procrastinate migration(s) wait for a start with no live worker "
            "(they remove what older workers call): %s",
            len(change.deferred),
            ", ".join(change.deferred),
        )
    return change


def _run_script(conn: sa.Connection, script: str) -> None:
    # procrastinate's own SQL, many statements and no parameters: run as it is on the driver's cursor.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(script)
    finally:
        cursor.close()


def _record(conn: sa.Connection, names: list[str]) -> None:
    if names:
        conn.execute(
            sa.text(_RECORD_ONE),
            [{"name": name} for name in names],
        )


# The newest object each procrastinate 3.x schema change created, newest first. A 3.3 schema
# reads as 3.2: 3.3's only script replaces a function (drop if exists, create), so running it
# again is harmless.
_PROBES: list[tuple[Version, str]] = [
    ((3, 4, 0), "SELECT to_regproc('procrastinate_retry_job_v2')"),
    ((3, 2, 0), "SELECT to_regproc('procrastinate_defer_jobs_v1')"),
    ((3, 1, 0), "SELECT to_regclass('procrastinate_workers')"),
]


def _probe_version(conn: sa.Connection) -> Version:
    for version, probe in _PROBES:
        if conn.execute(sa.text(probe)).scalar() is not None:
            return version
    return (3, 0, 0)  # envclone never ran on an older procrastinate (pyproject: >=3.0)


def _live_workers(db: Database, within_seconds: float) -> int:
    with db.read() as conn:
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_workers')")).scalar() is None:
            return 0
        query = sa.text(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :secs)"
        )
        return int(conn.execute(query, {"secs": within_seconds}).scalar_one())


def live_workers(db: Database, within_seconds: float) -> int:
    """How many queue workers beat within the last ``within_seconds`` (none without the schema)."""
    if db.is_sqlite:
        return 0
    return _live_workers(db, within_seconds)
