"""What a replacement changes, per component: an index of each row's natural key to a hash of its
content, read from the database or from archive entries, and the comparison of two indexes
(created, replaced, removed, unchanged). Record components are append-only logs without natural
keys, so they are compared by count only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from blake3 import blake3

from envclone.content.component_tables import COMPONENT_TABLES, Part
from envclone.content.digest import canonical
from envclone.content.export import table_entry_name
from envclone.content.rows import decode_rows
from envclone.domain.components import RECORD_COMPONENTS, Component

Index = dict[str, str]


def _key_columns(part: Part) -> list[str]:
    return [k for k in part.table.info["key"] if k in part.content_columns()]


def _index_rows(part: Part, rows: Iterable[dict[str, Any]], index: Index) -> None:
    columns = part.content_columns()
    keys = _key_columns(part)
    for row in rows:
        key = part.table.name + ":" + json.dumps([row[k] for k in keys], default=str, separators=(",", ":"))
        index[key] = blake3(canonical(row[c] for c in columns)).hexdigest(length=16)


def index_db(conn: sa.Connection, component: Component) -> Index | int:
    """Key -> content hash of every row (or the row count, for record components)."""
    if component in RECORD_COMPONENTS:
        part = COMPONENT_TABLES[component][0]
        where = [part.table.c[k] == v for k, v in part.filters.items()]
        return int(conn.execute(sa.select(sa.func.count()).select_from(part.table).where(*where)).scalar_one())
    index: Index = {}
    for part in COMPONENT_TABLES[component]:
        columns = part.content_columns()
        result = conn.execute(sa.select(*(part.table.c[c] for c in columns)), execution_options={"yield_per": 5000})
        _index_rows(part, (dict(zip(columns, row, strict=True)) for row in result), index)
    return index


def index_entries(open_entry: Callable[[str], Iterator[bytes]], component: Component) -> Index | int:
    """The same index, read from a component's archived entries."""
    if component in RECORD_COMPONENTS:
        part = COMPONENT_TABLES[component][0]
        return sum(1 for _ in decode_rows(open_entry(table_entry_name(part)), part.table))
    index: Index = {}
    for part in COMPONENT_TABLES[component]:
        _index_rows(part, decode_rows(open_entry(table_entry_name(part)), part.table), index)
    return index


def compare(old: Index | int, new: Index | int, *, list_limit: int | None = None) -> dict[str, Any]:
    """Counts, and (up to ``list_limit`` each) the keys created, replaced and removed."""
    if isinstance(old, int) or isinstance(new, int):
        before, after = (old if isinstance(old, int) else len(old)), (new if isinstance(new, int) else len(new))
        return {"before": before, "after": after, "created": after, "removed": before, "replaced": 0, "unchanged": 0}
    created = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    replaced = [k for k in new if k in old and old[k] != new[k]]
    unchanged = len(new) - len(created) - len(replaced)

    def cut(keys: list[str]) -> list[str]:
        return keys if list_limit is None else keys[:list_limit]

    return {
        "before": len(old),
        "after": len(new),
        "created": len(created),
        "replaced": len(replaced),
        "removed": len(removed),
        "unchanged": unchanged,
        "objects": {"created": cut(created), "replaced": cut(replaced), "removed": cut(removed)},
    }


def unchanged(conn: sa.Connection, component: Component) -> dict[str, Any]:
    """The report of a component an apply left as it was (its digest already matched)."""
    count = 0
    for part in COMPONENT_TABLES[component]:
        where = [part.table.c[k] == v for k, v in part.filters.items()]
        count += int(conn.execute(sa.select(sa.func.count()).select_from(part.table).where(*where)).scalar_one())
    report: dict[str, Any] = {
        "before": count, "after": count, "created": 0, "replaced": 0, "removed": 0, "unchanged": count
    }
    if component not in RECORD_COMPONENTS:
        report["objects"] = {"created": [], "replaced": [], "removed": []}
    return report
