"""One generic repository over a content table: paged and filtered listing, get, insert (single
and bulk), update, delete and streaming. Every write bumps the component's change counter in the
same transaction, so nothing that writes content can forget to."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from envclone.domain.clock import naive_utc
from envclone.domain.limits import INT64_MAX, INT64_MIN
from envclone.domain.page import Page, Row
from envclone.errors import Conflict, InvalidRequest, NotFound
from envclone.store.database import bump

BULK_BATCH = 5000
_INTEGER = re.compile(r"^-?[0-9]{1,20}$")


class TableRepository:
    def __init__(self, table: sa.Table, *, label: str | None = None) -> None:
        self.table = table
        self.key: tuple[str, ...] = table.info["key"]
        self.label = label or table.name.rstrip("s")

    # -- reading ---------------------------------------------------------------------------------
    def _coerce(self, name: str, value: Any) -> Any:
        """Query strings arrive as text; compare them as the column's type (PostgreSQL insists)."""
        if not isinstance(value, str):
            return value
        python_type = self.table.c[name].type.python_type
        try:
            if python_type is bool:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                return value.lower() in ("true", "1")
            if python_type is int:
                if not _INTEGER.match(value):
                    raise ValueError(value)
                number = int(value)
                if not INT64_MIN <= number <= INT64_MAX:
                    raise InvalidRequest(f"{name}: {value} is out of range")
                return number
            if python_type is dt.datetime:
                return naive_utc(dt.datetime.fromisoformat(value))
        except ValueError:
            raise InvalidRequest(f"{name}: {value!r} is not a valid {python_type.__name__}") from None
        return value

    def _where(self, filters: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        for name, raw in filters.items():
            if raw is None:
                continue
            value = self._coerce(name.split("__")[0], raw)
            if name.endswith("__prefix"):
                column = self.table.c[name.removesuffix("__prefix")]
                escaped = str(raw).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                clauses.append(column.like(escaped + "%", escape="\\"))
            elif name.endswith("__gte"):
                clauses.append(self.table.c[name.removesuffix("__gte")] >= value)
            elif name.endswith("__lt"):
                clauses.append(self.table.c[name.removesuffix("__lt")] < value)
            else:
                clauses.append(self.table.c[name] == value)
        return clauses

    def page(self, conn: sa.Connection, filters: Mapping[str, Any], *, limit: int, offset: int) -> Page:
        where = self._where(filters)
        total = conn.execute(sa.select(sa.func.count()).select_from(self.table).where(*where)).scalar_one()
        order = [self.table.c[k] for k in self.key]
        query = sa.select(self.table).where(*where).order_by(*order).limit(limit).offset(offset)
        items = [dict(r._mapping) for r in conn.execute(query)]
        return Page(items=items, total=int(total), limit=limit, offset=offset)

    def _key_clause(self, key: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        return [self.table.c[k] == key[k] for k in self.key]

    def find(self, conn: sa.Connection, key: Mapping[str, Any]) -> Row | None:
        row = conn.execute(sa.select(self.table).where(*self._key_clause(key))).first()
        return dict(row._mapping) if row else None

    def get(self, conn: sa.Connection, key: Mapping[str, Any]) -> Row:
        row = self.find(conn, key)
        if row is None:
            raise NotFound(f"{self.label} {self._describe(key)} not found")
        return row

    def stream(
        self, conn: sa.Connection, filters: Mapping[str, Any] | None = None, *, ordered: bool = False
    ) -> Iterator[Row]:
        """``ordered``: by the key, so that what is written from it is the same bytes in the same
        order on every database (an archive's chunks then deduplicate run after run)."""
        query = sa.select(self.table).where(*self._where(filters or {}))
        if ordered:
            query = query.order_by(*(self.table.c[k] for k in self.key))
        # Per statement, not on the connection: a connection-wide yield_per would turn later
        # statements (SAVEPOINTs on PostgreSQL) into server-side cursors.
        result = conn.execute(query, execution_options={"yield_per": BULK_BATCH})
        for row in result:
            yield dict(row._mapping)

    # -- writing ---------------------------------------------------------------------------------
    def _component_of(self, row: Mapping[str, Any]) -> str:
        column = self.table.info.get("component_column")
        return str(row[column]) if column else str(self.table.info["component"])

    def insert(self, conn: sa.Connection, row: Row) -> Row:
        try:
            with conn.begin_nested():
                conn.execute(self.table.insert().values(**row))
        except sa.exc.IntegrityError:
            raise Conflict(
                f"{self.label} {self._describe(row)} already exists or refers to something missing"
            ) from None
        bump(conn, self._component_of(row))
        return row

    def insert_many(self, conn: sa.Connection, rows: Iterable[Row]) -> int:
        """Bulk insert in batches (executemany), far faster than one statement per row."""
        count = 0
        components: set[str] = set()
        batch: list[Row] = []
        try:
            for row in rows:
                batch.append(row)
                if len(batch) >= BULK_BATCH:
                    count += self._flush(conn, batch, components)
                    batch = []
            if batch:
                count += self._flush(conn, batch, components)
        except sa.exc.IntegrityError:
            raise Conflict(f"a {self.label} in the batch already exists or refers to something missing") from None
        for component in components:
            bump(conn, component)
        return count

    def _flush(self, conn: sa.Connection, batch: list[Row], components: set[str]) -> int:
        # executemany takes its column list from the first row: rows that set different optional
        # columns go in separate statements, so that none loses a value or a default.
        shapes: dict[frozenset[str], list[Row]] = {}
        for row in batch:
            shapes.setdefault(frozenset(row), []).append(row)
            components.add(self._component_of(row))
        for rows in shapes.values():
            conn.execute(self.table.insert(), rows)
        return len(batch)

    def update(self, conn: sa.Connection, key: Mapping[str, Any], values: Mapping[str, Any]) -> Row:
        if values:
            try:
                with conn.begin_nested():
                    result = conn.execute(self.table.update().where(*self._key_clause(key)).values(**values))
            except sa.exc.IntegrityError:
                raise Conflict(
                    f"{self.label} {self._describe(key)}: the change conflicts with existing content"
                ) from None
            if result.rowcount == 0:
                raise NotFound(f"{self.label} {self._describe(key)} not found")
        row = self.get(conn, key)
        bump(conn, self._component_of(row))
        return row

    def delete(self, conn: sa.Connection, key: Mapping[str, Any]) -> Row:
        row = self.get(conn, key)
        try:
            with conn.begin_nested():
                conn.execute(self.table.delete().where(*self._key_clause(key)))
        except sa.exc.IntegrityError:
            raise Conflict(f"{self.label} {self._describe(key)} is still in use") from None
        bump(conn, self._component_of(row))
        return row

    def delete_where(self, conn: sa.Connection, filters: Mapping[str, Any], component: str) -> int:
        result = conn.execute(self.table.delete().where(*self._where(filters)))
        if result.rowcount:
            bump(conn, component)
        return int(result.rowcount)

    def _describe(self, key: Mapping[str, Any]) -> str:
        return "/".join(str(key.get(k, "?")) for k in self.key)
