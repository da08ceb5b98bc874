"""Replacing components with archived content, atomically: blobs are put in place first (they are
content-addressed, so that is harmless), then every selected component's rows are deleted and
re-inserted in ONE database transaction. A crash at any point leaves the old content or the new,
never a mix; the caller then drops blobs nothing refers to any more."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlalchemy as sa

from envclone.blobs.store import BlobStore
from envclone.content.component_tables import COMPONENT_TABLES
from envclone.content.export import blob_hashes, table_entry_name
from envclone.content.rows import decode_rows
from envclone.domain.components import Component
from envclone.store.database import bump
from envclone.store.principals import credentials, end_changed_sessions

OpenEntry = Callable[[str], Iterator[bytes]]
_BATCH = 5000


def replace_component(
    conn: sa.Connection, component: Component, open_entry: OpenEntry, on_rows: Callable[[int], None] | None = None
) -> int:
    """Inside the caller's transaction: delete the component's rows, insert the archived ones.
    Replacing the users ends the sessions of those whose credentials it changes or removes."""
    parts = COMPONENT_TABLES[component]
    held = credentials(conn) if component is Component.USERS else None
    for part in reversed(parts):  # children before parents (foreign keys)
        conn.execute(part.table.delete().where(*(part.table.c[name] == value for name, value in part.filters.items())))
    inserted = 0
    for part in parts:
        batch: list[dict[str, object]] = []
        for row in decode_rows(open_entry(table_entry_name(part)), part.table):
            row.update(part.filters)
            batch.append(row)
            if len(batch) >= _BATCH:
                conn.execute(part.table.insert(), batch)
                inserted += len(batch)
                if on_rows:
                    on_rows(len(batch))
                batch = []
        if batch:
            conn.execute(part.table.insert(), batch)
            inserted += len(batch)
            if on_rows:
                on_rows(len(batch))
    if held is not None:
        end_changed_sessions(conn, held)
    bump(conn, component)
    return inserted


def drop_unreferenced_blobs(conn: sa.Connection, blobs: BlobStore) -> int:
    """Delete file and image blobs that no row refers to any more (after a replacement). The
    caller holds the lock that new references are made under."""
    wanted = {h for component in (Component.FILES, Component.SETTINGS) for h, _ in blob_hashes(conn, component)}
    dropped = 0
    for key in list(blobs.list("files/")):
        if key.removeprefix("files/") not in wanted:
            blobs.delete(key)
            dropped += 1
    return dropped
