"""The server_state table: small values the server keeps about itself (its instance id, scheduler
marks), read and written by key. The only module that names the table for those callers."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.store import tables

INSTANCE_ID = "instance_id"  # this environment's identity, written once at first start


def get(conn: sa.Connection, key: str) -> object | None:
    t = tables.server_state
    value: object | None = conn.execute(sa.select(t.c.value).where(t.c.key == key)).scalar()
    return value


def put(conn: sa.Connection, key: str, value: object) -> None:
    """Inside the caller's transaction: replaces any earlier value."""
    t = tables.server_state
    conn.execute(t.delete().where(t.c.key == key))
    conn.execute(t.insert().values(key=key, value=value))
