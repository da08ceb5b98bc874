"""Applying an archive to this environment, shared by restore and by a clone's target: blobs first
(content-addressed, harmless), then the chosen components replaced inside the caller's single
transaction, settings keys the caller keeps put back, and the result checked against the digests
recorded with the archive before the caller commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from envclone.archive import ArchiveReader
from envclone.blobs.checked import content_matches
from envclone.blobs.store import BlobStore
from envclone.content.digest import component_digest, compute_component, store_cached
from envclone.content.export import blob_hashes
from envclone.content.replace import replace_component
from envclone.content.restore_blobs import restore_blobs
from envclone.domain.components import Component
from envclone.errors import EnvcloneError
from envclone.store import tables
from envclone.store.database import generation

# Chunks a restore worker has fetched ahead of the one it writes (see put_blobs).
_AHEAD = 0


class DigestMismatch(EnvcloneError, code="archive_damaged", status=500):
    """The applied content does not match the archive's recorded digest; nothing was changed."""


def opener(
    reader: ArchiveReader,
    component: Component,
    on_bytes: Callable[[int], None] | None = None,
    *,
    ahead: int | None = None,
) -> Callable[[str], Iterator[bytes]]:
    """``ahead``: chunks fetched ahead per entry (the reader's default unless told)."""

    def open_entry(name: str) -> Iterator[bytes]:
        if on_bytes is None:
            return reader.read(component.value, name, ahead=ahead)
        return _counted(reader.read(component.value, name, ahead=ahead), on_bytes)

    return open_entry


def _counted(chunks: Iterator[bytes], on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    for chunk in chunks:
        on_bytes(len(chunk))
        yield chunk


def entry_names(reader: ArchiveReader, component: Component) -> list[str]:
    return [e.name for c, e in reader.manifest.entries() if c == component.value]


def put_blobs(
    blobs: BlobStore,
    reader: ArchiveReader,
    components: Iterable[Component],
    on_bytes: Callable[[int], None],
    *,
    repair: bool = False,
) -> None:
    """Before the transaction: file and image contents the chosen components refer to (with
    ``repair``, also rewriting those whose stored content is damaged)."""
    for component in components:
        if component in (Component.FILES, Component.SETTINGS):
            # Several entries are restored at once, each read chunk after chunk on its own worker
            # (no read-ahead on the reader's pool): what is held stays a chunk per worker however
            # large the files are, and no chunk is handed between threads.
            names = entry_names(reader, component)
            restore_blobs(blobs, names, opener(reader, component, ahead=_AHEAD), on_bytes, repair=repair)


def _settings_values(conn: sa.Connection, keys: frozenset[str]) -> dict[str, Any]:
    s = tables.settings
    return {k: v for k, v in conn.execute(sa.select(s.c.key, s.c.value).where(s.c.key.in_(keys)))}


def replace(
    conn: sa.Connection,
    reader: ArchiveReader,
    component: Component,
    *,
    keep_settings: frozenset[str] = frozenset(),
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Inside the caller's transaction. For settings, ``keep_settings`` keys keep this
    environment's current values instead of the archive's. ``on_bytes``: archive bytes read."""
    kept = _settings_values(conn, keep_settings) if component is Component.SETTINGS and keep_settings else {}
    replace_component(conn, component, opener(reader, component, on_bytes))
    if kept or (component is Component.SETTINGS and keep_settings):
        s = tables.settings
        conn.execute(s.delete().where(s.c.key.in_(keep_settings)))
        if kept:
            conn.execute(s.insert(), [{"key": k, "value": v} for k, v in kept.items()])


def already_equal(
    conn: sa.Connection,
    blobs: BlobStore,
    expected: Mapping[str, str],
    components: Iterable[Component],
    *,
    check_content: bool = False,
) -> set[Component]:
    """The components whose content here already has the archive's digest and every blob it refers
    to: replacing them would change nothing a digest can see (internal ids at most), so an apply
    may leave them as they are. A missing file content (a damaged store) is never skipped; with
    ``check_content`` (a restore) neither is one whose content does not match its hash."""

    def all_present(component: Component) -> bool:
        return all(blobs.exists(f"files/{h}") for h, _ in blob_hashes(conn, component))

    def all_match(component: Component) -> bool:
        return all(content_matches(blobs, f"files/{h}", h) for h, _ in blob_hashes(conn, component))

    # Cheapest first: a missing blob (a restore after the file contents were lost) answers before
    # the digest is computed over every row, and before any content is read.
    return {
        c
        for c in components
        if expected.get(c.value)
        and all_present(c)
        and component_digest(conn, c) == expected[c.value]
        and (not check_content or all_match(c))
    }


def check_digests(conn: sa.Connection, expected: Mapping[str, str], components: Iterable[Component]) -> None:
    """Inside the transaction, so that a mismatch rolls everything back. A digest that matches is
    cached at the component's new generation, in the same transaction: whoever asks next (the
    clone target's report, the source's comparison, the next backup) does not compute it again."""
    for component in components:
        want = expected.get(component.value)
        if want is None:
            continue
        if compute_component(conn, component) != want:
            raise DigestMismatch(
                f"the applied {component.value} does not match the archive's digest; nothing was changed"
            )
        store_cached(conn, component, want, generation(conn, component))
