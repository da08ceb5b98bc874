"""The archives repository: record a finished archive, look one up by name or manifest, list, prune
by retention, keep a verification result. The only module that names the archives table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from envclone.domain.archives import ArchiveKind
from envclone.errors import NotFound
from envclone.store import tables

T = tables.archives


def record(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(T.insert().values(**row))


def find(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(T).where(T.c.name == name)).first()
    return dict(row._mapping) if row else None


def find_manifest(conn: sa.Connection, manifest_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(T).where(T.c.manifest_id == manifest_id).order_by(T.c.created.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def get(conn: sa.Connection, name: str, *, kind: str | None = None) -> dict[str, Any]:
    row = find(conn, name)
    if row is None or (kind is not None and row["kind"] != kind):
        what = "environment backup" if kind == ArchiveKind.ENVIRONMENT_BACKUP else "backup"
        raise NotFound(f"{what} {name} not found")
    return row


def latest(conn: sa.Connection, kind: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(T).where(T.c.kind == kind).order_by(T.c.created.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def listing(conn: sa.Connection, kind: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(T).order_by(T.c.created, T.c.name)
    if kind:
        query = query.where(T.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(query)]


def prune(conn: sa.Connection, kind: str, keep: int) -> list[dict[str, Any]]:
    """Drop all but the newest ``keep`` archives of a kind; returns the dropped rows."""
    rows = conn.execute(sa.select(T).where(T.c.kind == kind).order_by(T.c.created.desc())).all()
    dropped = [dict(r._mapping) for r in rows[keep:]]
    if dropped:
        conn.execute(T.delete().where(T.c.name.in_([r["name"] for r in dropped])))
    return dropped


def mark_verified(conn: sa.Connection, name: str, when: dt.datetime, result: dict[str, Any]) -> None:
    conn.execute(T.update().where(T.c.name == name).values(verified=when, verify_result=result))
