"""Named locks shared by every process on one PostgreSQL database (advisory locks): start-up
steps that must not run twice at once (schema migration, first-start bootstrap) and the schedule
tick that must run in one process at a time. On SQLite one process owns the file, so each lock is
granted at once. Held by a connection of its own, released when the block ends or the process dies."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from envclone.store.database import Database


def _key(name: str) -> int:
    # Advisory locks are named by a signed 64-bit number; the prefix keeps clear of other users'.
    digest = hashlib.blake2b(f"envclone:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def held(db: Database, name: str) -> Iterator[None]:
    """Wait for the lock ``name`` and hold it for the block."""
    if db.is_sqlite:
        yield
        return
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _key(name)})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
            conn.commit()


@contextmanager
def attempt(db: Database, name: str) -> Iterator[bool]:
    """Take the lock ``name`` if it is free, for the block: yields whether this process holds it."""
    if db.is_sqlite:
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
                conn.commit()
