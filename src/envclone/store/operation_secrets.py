"""The operation_secrets repository: one sealed value per operation (the caller seals and opens;
this module only keeps bytes). The only module that names the table."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.store import tables

_T = tables.operation_secrets


def put(conn: sa.Connection, op_id: str, sealed: bytes) -> None:
    conn.execute(_T.delete().where(_T.c.operation_id == op_id))
    conn.execute(_T.insert().values(operation_id=op_id, sealed=sealed, created=utcnow()))


def get(conn: sa.Connection, op_id: str) -> bytes | None:
    value = conn.execute(sa.select(_T.c.sealed).where(_T.c.operation_id == op_id)).scalar()
    return bytes(value) if value is not None else None


def delete(conn: sa.Connection, op_id: str) -> None:
    conn.execute(_T.delete().where(_T.c.operation_id == op_id))
