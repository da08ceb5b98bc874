"""Append-only records (application audit, job console, data management): append in bulk, query
by time range and fields, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from envclone.domain.clock import naive_utc, utcnow
from envclone.domain.components import RECORD_COMPONENTS, Component
from envclone.domain.page import Page
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.repository import TableRepository

_records = TableRepository(tables.records, label="record")
_FILTERS = frozenset({"actor", "action", "subject", "status", "ts__gte", "ts__lt"})


def record_component(name: str) -> Component:
    try:
        component = Component(name)
    except ValueError:
        component = None
    if component not in RECORD_COMPONENTS:
        kinds = ", ".join(c.value for c in RECORD_COMPONENTS)
        raise InvalidRequest(f"unknown record kind {name!r}: use one of {kinds}")
    assert component is not None
    return component


def append(ctx: ServiceContext, who: Principal, kind: str, items: Iterable[Mapping[str, Any]]) -> int:
    who.require(Permission.WRITE_CONTENT)
    component = record_component(kind)
    now = utcnow()
    rows = (
        {
            "component": component.value,
            "ts": naive_utc(item.get("ts") or now),
            "actor": item.get("actor", ""),
            "action": item.get("action", ""),
            "subject": item.get("subject", ""),
            "status": item.get("status", ""),
            "details": item.get("details") or {},
        }
        for item in items
    )
    with ctx.db.begin() as conn:
        return _records.insert_many(conn, rows)


def query(
    ctx: ServiceContext, who: Principal, kind: str, filters: Mapping[str, Any], *, limit: int, offset: int
) -> Page:
    who.require(Permission.READ_CONTENT)
    component = record_component(kind)
    where = {k: (naive_utc(v) if isinstance(v, dt.datetime) else v) for k, v in filters.items() if k in _FILTERS}
    where["component"] = component.value
    t = tables.records
    clauses = _records._where(where)
    with ctx.db.read() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*clauses)).scalar_one()
        rows = conn.execute(
            sa.select(t).where(*clauses).order_by(t.c.ts.desc(), t.c.seq.desc()).limit(limit).offset(offset)
        )
        items = [{k: v for k, v in r._mapping.items() if k != "component"} for r in rows]
    return Page(items, int(total), limit, offset)
