"""What a replacement changes, per component: an index of each row's key to a hash of its
content, read from the database or from archive entries, and the comparison of two indexes
(created, replaced, removed, unchanged). A row is keyed by its natural key; a record (audit, job
console, data management), which has none, by its content (record_keys.py), so records are compared
row by row too. One comparison serves a clone's preview and its change report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from blake3 import blake3

from envclone.content.component_tables import COMPONENT_TABLES, Part
from envclone.content.digest import canonical
from envclone.content.export import table_entry_name
from envclone.content.record_keys import ContentKeys
from envclone.content.rows import decode_rows
from envclone.domain.components import Component

Index = dict[str, str]
CHANGES = ("created", "replaced", "removed")


def _key_columns(part: Part) -> list[str]:
    return [k for k in part.table.info["key"] if k in part.content_columns()]


def _label_columns(part: Part) -> list[str]:
    """What names a keyless row in a listing: its scalar columns (a record's time, actor, action,
    subject and status), not its JSON details."""
    return [c for c in part.content_columns() if not isinstance(part.table.c[c].type, sa.JSON)]


def index_rows(part: Part, rows: Iterable[dict[str, Any]], index: Index | None = None) -> Index:
    """Add each row of ``part`` to ``index`` (a new one if None): key -> content hash. Pure."""
    index = {} if index is None else index
    columns, keys = part.content_columns(), _key_columns(part)
    by_content = None if keys else ContentKeys(part.table.name)
    labels = _label_columns(part)
    for row in rows:
        content = blake3(canonical(row[c] for c in columns)).hexdigest(length=16)
        if by_content is not None:
            key = by_content.key([row[c] for c in labels], content)
        else:
            key = part.table.name + ":" + json.dumps([row[k] for k in keys], default=str, separators=(",", ":"))
        index[key] = content
    return index


def index_db(conn: sa.Connection, component: Component) -> Index:
    """Key -> content hash of every row of ``component``."""
    index: Index = {}
    for part in COMPONENT_TABLES[component]:
        columns = part.content_columns()
        query = sa.select(*(part.table.c[c] for c in columns)).where(
            *(part.table.c[k] == v for k, v in part.filters.items())
        )
        result = conn.execute(query, execution_options={"yield_per": 5000})
        index_rows(part, (dict(zip(columns, row, strict=True)) for row in result), index)
    return index


def index_entries(open_entry: Callable[[str], Iterator[bytes]], component: Component) -> Index:
    """The same index, read from a component's archived entries."""
    index: Index = {}
    for part in COMPONENT_TABLES[component]:
        index_rows(part, decode_rows(open_entry(table_entry_name(part)), part.table), index)
    return index


def compare(old: Index, new: Index, *, list_limit: int | None = None) -> dict[str, Any]:
    """Counts, and the keys created, replaced and removed. With ``list_limit`` each list holds at
    most that many keys and ``truncated`` says how many each one left out. Pure."""
    created = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    replaced = [k for k in new if k in old and old[k] != new[k]]
    listed = {"created": created, "replaced": replaced, "removed": removed}
    change: dict[str, Any] = {
        "before": len(old),
        "after": len(new),
        "created": len(created),
        "replaced": len(replaced),
        "removed": len(removed),
        "unchanged": len(new) - len(created) - len(replaced),
    }
    if list_limit is None:
        change["objects"] = listed
        return change
    change["objects"] = {what: keys[:list_limit] for what, keys in listed.items()}
    change["truncated"] = {what: max(0, len(keys) - list_limit) for what, keys in listed.items()}
    return change


def unchanged(conn: sa.Connection, component: Component) -> dict[str, Any]:
    """The report of a component an apply left as it was (its digest already matched)."""
    count = 0
    for part in COMPONENT_TABLES[component]:
        where = [part.table.c[k] == v for k, v in part.filters.items()]
        count += int(conn.execute(sa.select(sa.func.count()).select_from(part.table).where(*where)).scalar_one())
    return {
        "before": count,
        "after": count,
        "created": 0,
        "replaced": 0,
        "removed": 0,
        "unchanged": count,
        "objects": {what: [] for what in CHANGES},
    }
