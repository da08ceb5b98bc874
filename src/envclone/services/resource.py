"""Generic create/read/list/update/delete over one content table, with the permission checks and
hooks that a particular resource adds (password hashing, reference checks, cascades). The native
API mounts one set of routes per Resource."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from envclone.domain.page import Page, Row
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest
from envclone.services.context import ServiceContext
from envclone.store.repository import TableRepository

Prepare = Callable[[sa.Connection, dict[str, Any], bool], dict[str, Any]]
Hook = Callable[[sa.Connection, Row], None]
UpdateHook = Callable[[sa.Connection, Row, Row], None]  # the row before and after the update


def _identity(_conn: sa.Connection, values: dict[str, Any], _creating: bool) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class Resource:
    repo: TableRepository
    read: Permission = Permission.READ_CONTENT
    write: Permission = Permission.WRITE_CONTENT
    scope: str | None = None  # column holding the parent's key (e.g. project_id)
    parent: TableRepository | None = None
    filters: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    prepare: Prepare = _identity
    before_delete: Hook | None = None
    after_update: UpdateHook | None = None  # in the update's transaction
    render_extra: Callable[[Row], dict[str, Any]] | None = None
    immutable: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return self.repo.label

    def render(self, row: Row) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k not in self.hidden}
        if self.render_extra:
            out.update(self.render_extra(row))
        return out

    def _check_parent(self, conn: sa.Connection, scope_value: str | None) -> dict[str, Any]:
        if self.scope is None:
            return {}
        assert self.parent is not None and scope_value is not None
        self.parent.get(conn, {self.parent.key[0]: scope_value})
        return {self.scope: scope_value}


def list_items(
    ctx: ServiceContext,
    who: Principal,
    res: Resource,
    *,
    scope: str | None = None,
    filters: Mapping[str, Any] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    who.require(res.read)
    unknown = set(filters or {}) - res.filters
    if unknown:
        raise InvalidRequest(f"unknown filter(s) for {res.label}: {', '.join(sorted(unknown))}")
    with ctx.db.read() as conn:
        where = {**(filters or {}), **res._check_parent(conn, scope)}
        page = res.repo.page(conn, where, limit=limit, offset=offset)
    return Page([res.render(r) for r in page.items], page.total, page.limit, page.offset)


def get_item(ctx: ServiceContext, who: Principal, res: Resource, key: Mapping[str, Any]) -> dict[str, Any]:
    who.require(res.read)
    with ctx.db.read() as conn:
        return res.render(res.repo.get(conn, key))


def create_item(
    ctx: ServiceContext, who: Principal, res: Resource, values: dict[str, Any], *, scope: str | None = None
) -> dict[str, Any]:
    who.require(res.write)
    with ctx.db.begin() as conn:
        row = res.prepare(conn, {**values, **res._check_parent(conn, scope)}, True)
        res.repo.insert(conn, row)
        return res.render(res.repo.get(conn, row))


def create_items(
    ctx: ServiceContext, who: Principal, res: Resource, items: Iterable[dict[str, Any]], *, scope: str | None = None
) -> int:
    """All or nothing: one transaction, bulk inserted."""
    who.require(res.write)
    with ctx.db.begin() as conn:
        parent = res._check_parent(conn, scope)
        return res.repo.insert_many(conn, (res.prepare(conn, {**item, **parent}, True) for item in items))


def update_item(
    ctx: ServiceContext, who: Principal, res: Resource, key: Mapping[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    who.require(res.write)
    frozen = (set(res.repo.key) | res.immutable) & set(values)
    if frozen:
        raise InvalidRequest(f"{', '.join(sorted(frozen))} of a {res.label} cannot be changed")
    with ctx.db.begin() as conn:
        before = res.repo.get(conn, key)
        row = res.repo.update(conn, key, res.prepare(conn, values, False))
        if res.after_update:
            res.after_update(conn, before, row)
        return res.render(row)


def delete_item(ctx: ServiceContext, who: Principal, res: Resource, key: Mapping[str, Any]) -> None:
    who.require(res.write)
    with ctx.db.begin() as conn:
        row = res.repo.get(conn, key)
        if res.before_delete:
            res.before_delete(conn, row)
        res.repo.delete(conn, key)
