"""The duplications repository: one row per side of a project duplication this server runs. The
only module that names the duplications table; what a row's JSON means is domain.duplication's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.errors import Conflict
from envclone.store import tables

T = tables.duplications


def insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Record a side; Conflict if this server already has a record with that id."""
    now = utcnow()
    try:
        with conn.begin_nested():
            conn.execute(T.insert().values(created=now, updated=now, **row))
    except sa.exc.IntegrityError:
        raise Conflict(f"a project duplication with id {row['id']} already exists here") from None


def find(conn: sa.Connection, dup_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(T).where(T.c.id == dup_id)).first()
    return dict(row._mapping) if row else None


def listing(conn: sa.Connection, *, offset: int, limit: int) -> list[dict[str, Any]]:
    """Newest first (by creation, then id for a stable order within one instant)."""
    query = sa.select(T).order_by(T.c.created.desc(), T.c.id.desc()).offset(offset).limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(T)).scalar_one())


def update(conn: sa.Connection, dup_id: str, **values: Any) -> None:
    """Change columns of a record (a side's JSON once the project id is known, the archive once
    written) and its last-updated time."""
    conn.execute(T.update().where(T.c.id == dup_id).values(updated=utcnow(), **values))


def touch(conn: sa.Connection, dup_id: str, when: dt.datetime) -> None:
    conn.execute(T.update().where(T.c.id == dup_id).values(updated=when))


def delete(conn: sa.Connection, dup_id: str) -> bool:
    return bool(conn.execute(T.delete().where(T.c.id == dup_id)).rowcount)


def manifest_ids(conn: sa.Connection) -> list[str]:
    """The archives duplication records keep (a source's package, an uploaded one)."""
    return [m for m in conn.execute(sa.select(T.c.manifest_id).where(T.c.manifest_id.is_not(None))).scalars()]
