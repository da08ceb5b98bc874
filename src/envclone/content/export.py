"""A component's content as named byte streams (entries), read from one consistent snapshot:
one JSON-lines entry per table, bundles of the small blobs (file contents, images; see bundle.py) and one
entry per large blob, named ``blobs/<hash>``. The archive layer stores the entries; this module
knows nothing of chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

import sqlalchemy as sa

from envclone.blobs import LocalBlobStore
from envclone.blobs.store import BlobStore
from envclone.content.bundle import SMALL_BLOB, frame_size, stream_groups, write_bundle
from envclone.content.component_tables import COMPONENT_TABLES, Part
from envclone.content.digest import ComponentSums, PartSum
from envclone.content.rows import encode_rows
from envclone.domain.components import Component
from envclone.errors import NotFound
from envclone.store import tables

BLOB_PREFIX = "blobs/"


@dataclass(frozen=True)
class Entry:
    name: str
    open: Callable[[], Iterator[bytes]]
    size_hint: int = 0
    # A large blob in a local store: its file, which the archiver reads into its own buffers
    # (``open`` would hand over a new bytes object per MiB, copied again).
    open_file: Callable[[], BinaryIO] | None = None


def table_entry_name(part: Part) -> str:
    return f"{part.table.name}.jsonl"


def _rows(conn: sa.Connection, part: Part) -> Iterator[sa.Row[object]]:
    columns = part.content_columns()
    key = [part.table.c[k] for k in part.table.info["key"] if k in columns]
    query = (
        sa.select(*(part.table.c[c] for c in columns))
        .where(*(part.table.c[name] == value for name, value in part.filters.items()))
        .order_by(*(key or [part.table.c[k] for k in part.table.info["key"]]))
    )
    yield from conn.execute(query, execution_options={"yield_per": 5000})


def blob_hashes(conn: sa.Connection, component: Component) -> list[tuple[str, int]]:
    """The content-addressed blobs (``files/<hash>``) a component refers to, with sizes."""
    return list(blob_rows(conn, component))


def blob_rows(conn: sa.Connection, component: Component) -> Iterator[tuple[str, int]]:
    """``blob_hashes`` in ascending hash order (byte order, as Python sorts), streamed: a backup
    of many files does not hold their list."""
    if component is Component.FILES:
        t = tables.files
        # SQLite compares bytes; PostgreSQL would use the database's collation unless told.
        order = t.c.hash.collate("C") if conn.dialect.name == "postgresql" else t.c.hash
        query = sa.select(t.c.hash, sa.func.max(t.c.size)).group_by(t.c.hash).order_by(order)
        for content_hash, size in conn.execute(query, execution_options={"yield_per": 5000}):
            yield str(content_hash), int(size)
    elif component is Component.SETTINGS:
        values = conn.execute(sa.select(tables.settings.c.value)).scalars()
        yield from sorted({(v["hash"], int(v.get("size", 0))) for v in values if isinstance(v, dict) and "hash" in v})


def export_component(
    conn: sa.Connection, blobs: BlobStore, component: Component, sums: ComponentSums | None = None
) -> Iterator[Entry]:
    """Entries of one component. Table entries and the list of blobs stream from ``conn``, which
    must stay open (and in one snapshot) while they are read. Held meanwhile: one group of small
    blobs at a time, and the names of the large ones (each at least SMALL_BLOB, so few). With
    ``sums``, reading a table entry to its end also sums its rows' hashes (the digest)."""
    for part in COMPONENT_TABLES[component]:
        summed = sums.parts.get(part.table.name) if sums is not None else None
        yield Entry(table_entry_name(part), partial(_encode, conn, part, summed))
    large: list[tuple[str, int]] = []

    def small() -> Iterator[tuple[str, int]]:
        for content_hash, size in blob_rows(conn, component):
            if size <= SMALL_BLOB:
                yield content_hash, size
            else:
                large.append((content_hash, size))

    for name, members in stream_groups(small()):
        yield Entry(name, partial(write_bundle, blobs, members), frame_size(s for _, s in members))
    for content_hash, size in large:
        key = f"files/{content_hash}"
        yield Entry(BLOB_PREFIX + content_hash, partial(blobs.read, key), size, _file_opener(blobs, key))


def _file_opener(blobs: BlobStore, key: str) -> Callable[[], BinaryIO] | None:
    if not isinstance(blobs, LocalBlobStore):
        return None
    path = blobs.path(key)

    def open_file() -> BinaryIO:
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None

    return open_file


def _encode(conn: sa.Connection, part: Part, summed: PartSum | None = None) -> Iterator[bytes]:
    if summed is None or summed.started:  # opened a second time: sum once only
        yield from encode_rows(_rows(conn, part), part.content_columns())
        return
    summed.started = True
    yield from encode_rows(_rows(conn, part), part.content_columns(), summed.add)
    summed.done = True
