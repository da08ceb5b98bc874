"""The database of one environment: engine set-up for SQLite (WAL, foreign keys) and PostgreSQL,
schema migrations at start, transactions, and the per-component change counters that let digests
and backups skip what did not change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files as resource_files
from typing import Any

import sqlalchemy as sa

from envclone.domain.components import Component
from envclone.errors import InvalidRequest
from envclone.store import tables


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling defers locking).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # Writers take the write lock at BEGIN so that two of them queue on busy_timeout instead of
    # failing when a read lock is upgraded; readers (WAL) never wait. A caller that would rather
    # skip than wait (progress updates during a long restore) asks for a short busy timeout.
    options = conn.get_execution_options()
    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(options.get('envclone_busy_ms', 30000))}")
    conn.exec_driver_sql("BEGIN" if options.get("envclone_read", False) else "BEGIN IMMEDIATE")


def _nul_is_a_client_error(context: sa.engine.ExceptionContext) -> None:
    # PostgreSQL text cannot hold NUL, and psycopg refuses such a value before sending it. Values
    # a client names in a URL (a key, a filter) reach queries as they are, so that refusal is the
    # client's mistake, wherever it happens: a 422 rather than a 500.
    if "cannot contain NUL" in str(context.original_exception):  # psycopg.DataError
        raise InvalidRequest("a name or value holds the character U+0000, which cannot be stored") from None


# What a transaction changed (components, sessions), noted on its connection for the callbacks
# that Database.after_commit registers: in-memory caches of this process that must not outlive it.
_CHANGED = "envclone_changed"


def note_change(conn: sa.Connection, what: str) -> None:
    """Record that the caller's transaction changes ``what``: once it commits, every callback
    registered with ``after_commit`` is told (nothing is told of a transaction rolled back)."""
    conn.info.setdefault(_CHANGED, set()).add(what)


# The newest migration (store/migrations/versions; a test holds it equal to alembic's head). A
# schema already there is not handed to alembic, whose import (with mako and pygments) costs every
# process ~10 MB of memory.
HEAD_REVISION = "0008"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self._after_commit: list[Callable[[frozenset[str]], None]] = []
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # hide_parameters: a failed statement's message must never carry row values (hashes).
            self.engine = sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = sa.create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)
            sa.event.listen(self.engine, "handle_error", _nul_is_a_client_error)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        if self._revisions() == [HEAD_REVISION]:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resource_files("envclone.store") / "migrations"))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def _revisions(self) -> list[str]:
        """The schema's revisions as alembic recorded them (none before the first migration)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return []
            return [str(v) for v in conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()]

    def after_commit(self, callback: Callable[[frozenset[str]], None]) -> None:
        """Call ``callback`` with what each transaction of this process noted (note_change) once it
        has committed: after, so that no reader can fill a cache from the state before it."""
        self._after_commit.append(callback)

    def _committed(self, conn: sa.Connection) -> None:
        changed = conn.info.pop(_CHANGED, None)
        if changed:
            for callback in self._after_commit:
                callback(frozenset(changed))

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed if the block ends normally, rolled back otherwise."""
        with self.engine.connect() as conn:
            conn.info.pop(_CHANGED, None)  # the notes of a transaction rolled back on this connection
            with conn.begin():
                yield conn
            self._committed(conn)

    @contextmanager
    def begin_nowait(self) -> Iterator[sa.Connection]:
        """A write transaction for best-effort writes (progress, caches) that gives up at once
        (OperationalError) rather than queue behind a long writer: SQLite's write lock, or on
        PostgreSQL a row lock (lock_timeout), which also keeps it out of deadlocks."""
        with self.engine.connect() as conn:
            conn.execution_options(envclone_busy_ms=50)
            conn.info.pop(_CHANGED, None)
            with conn.begin():
                if not self.is_sqlite:
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '50ms'")
                yield conn
            self._committed(conn)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(envclone_read=True)
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[sa.Connection]:
        """A read-only transaction that sees one consistent state however long it lasts (SQLite
        WAL read transactions do; PostgreSQL needs REPEATABLE READ)."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(envclone_read=True)
            else:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def bump(conn: sa.Connection, component: Component | str) -> None:
    """Record that a component changed, inside the caller's transaction."""
    note_change(conn, str(component))
    table = tables.component_generations
    updated = conn.execute(
        table.update().where(table.c.component == str(component)).values(generation=table.c.generation + 1)
    )
    if updated.rowcount == 0:
        conn.execute(table.insert().values(component=str(component), generation=1))


def generation(conn: sa.Connection, component: Component | str) -> int:
    table = tables.component_generations
    value = conn.execute(sa.select(table.c.generation).where(table.c.component == str(component))).scalar()
    return int(value or 0)
