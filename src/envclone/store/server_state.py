"""The server_state repository: small facts about this server that are not content (its instance
id, "skip the next daily maintenance", the last maintenance slot handled). Values are JSON. The
only module that names the table; it knows nothing of what the keys mean to their owners."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.store import tables

# The one key that several layers read (bootstrap writes it, services and the clone operation
# compare it with a peer's), so it is spelled once here.
INSTANCE_ID = "instance_id"

_T = tables.server_state


def get(conn: sa.Connection, key: str) -> object | None:
    """The stored value, or None when the key was never put."""
    return conn.execute(sa.select(_T.c.value).where(_T.c.key == key)).scalar()


def put(conn: sa.Connection, key: str, value: object) -> None:
    """Set ``key`` to ``value``, replacing any earlier value, within the caller's transaction."""
    conn.execute(_T.delete().where(_T.c.key == key))
    conn.execute(_T.insert().values(key=key, value=value))


def put_if_absent(conn: sa.Connection, key: str, value: object) -> bool:
    """Set ``key`` only if it has no value yet (an identity is made once); True if it was set."""
    if conn.execute(sa.select(_T.c.key).where(_T.c.key == key)).first() is not None:
        return False
    conn.execute(_T.insert().values(key=key, value=value))
    return True


def delete(conn: sa.Connection, key: str) -> None:
    conn.execute(_T.delete().where(_T.c.key == key))
