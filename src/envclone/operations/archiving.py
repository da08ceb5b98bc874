"""Writing archives of chosen components from one consistent snapshot. Components whose change
counter is what it was at the previous archive of the same kind are not read again: their entries
are reused from that archive. File contents are content-addressed, so an unchanged file is reused
whatever else changed. Shared by daily maintenance and clone. Progress goes to a Meter, planned
from what the newest archives hold of each component (an estimate; done never shows above it)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from envclone.archive import ArchiveReader, ArchiveWriter, EntryKind, Manifest, load_manifest
from envclone.content.bundle import is_bundle
from envclone.content.digest import ComponentSums, cached_digest, compute_component
from envclone.content.export import BLOB_PREFIX, Entry, export_component
from envclone.domain.archives import ArchiveKind, archive_name
from envclone.domain.components import Component
from envclone.operations.context import OperationContext
from envclone.store import archives
from envclone.store.database import generation

ARTIFACT_SNAPSHOT_COMPONENTS = (
    Component.ARTIFACTS,
    Component.CONFIGURATION,
    Component.JOBS,
    Component.SETTINGS,
    Component.USERS,
)
ALL_COMPONENTS = tuple(Component)


class Meter(Protocol):
    """What archiving reports progress to (the engine's Recorder is one)."""

    def plan(self, *, bytes_total: int | None = None, items_total: int | None = None) -> None: ...

    def advance(self, *, nbytes: int = 0, items: int = 0) -> None: ...


class _NoMeter:
    def plan(self, *, bytes_total: int | None = None, items_total: int | None = None) -> None:
        pass

    def advance(self, *, nbytes: int = 0, items: int = 0) -> None:
        pass


NO_METER: Meter = _NoMeter()


@dataclass(frozen=True)
class Written:
    name: str
    manifest: Manifest
    size: int
    reused: int  # bytes taken from the previous archive without reading them


SMALL_ENTRY = 4 * 1024 * 1024
PREFETCH = 32
# Bytes read ahead at most: sized to keep four reading threads busy, not to the entries (a count
# alone let 32 one-megabyte files sit in memory, the first backup's largest holder in memray).
PREFETCH_BYTES = 8 * 1024 * 1024


def prefetched(entries: Iterable[Entry], skip: Mapping[str, object]) -> Iterator[tuple[Entry, Iterable[bytes]]]:
    """Entries with their content. Small file entries are read ahead on a few threads (opening
    many small files one after another is what a first backup waits on); large ones and table
    entries stream as they are. At most PREFETCH small entries, and PREFETCH_BYTES of them, are held."""
    with ThreadPoolExecutor(4, thread_name_prefix="backup-read") as pool:
        window: deque[tuple[Entry, Future[bytes] | None]] = deque()
        held = 0
        for entry in entries:
            small = 0 < entry.size_hint <= SMALL_ENTRY and entry.name not in skip
            window.append((entry, pool.submit(_read_all, entry) if small else None))
            held += entry.size_hint if small else 0
            while len(window) > PREFETCH or held > PREFETCH_BYTES or (window and window[0][1] is None):
                ready = window.popleft()
                held -= ready[0].size_hint if ready[1] is not None else 0
                yield _ready(ready)
        while window:
            yield _ready(window.popleft())


def _read_all(entry: Entry) -> bytes:
    return b"".join(entry.open())


def _ready(item: tuple[Entry, Future[bytes] | None]) -> tuple[Entry, Iterable[bytes]]:
    entry, future = item
    return entry, ((future.result(),) if future is not None else _opened(entry))


def _opened(entry: Entry) -> Iterator[bytes]:
    """The entry's content, opened when first read (not at all when the reader takes its file)."""
    yield from entry.open()


def _counting(chunks: Iterable[bytes], on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    for chunk in chunks:
        on_bytes(len(chunk))
        yield chunk


class _CountingReader:
    def __init__(self, handle: Any, on_bytes: Callable[[int], None]) -> None:
        self._handle = handle
        self._on_bytes = on_bytes

    def readinto(self, buffer: memoryview, /) -> int:
        n = self._handle.readinto(buffer) or 0
        self._on_bytes(n)
        return n


class _Previous:
    """The last archive of the same kind, as far as reuse needs it."""

    def __init__(self, ctx: OperationContext, conn: sa.Connection, kind: str) -> None:
        row = archives.latest(conn, kind)
        self.manifest = load_manifest(ctx.blobs, row["manifest_id"]) if row else None
        self.generations: dict[str, int] = row["generations"] if row else {}
        self.digests: dict[str, str] = row["digests"] if row else {}
        entries = list(self.manifest.entries()) if self.manifest else []
        self.by_component: dict[str, list[Any]] = {}
        for component, entry in entries:
            self.by_component.setdefault(component, []).append(entry)
        # Entries named by their content (a blob's hash, a bundle's members): reusable by name.
        self.blobs = {e.name: e for _, e in entries if e.name.startswith(BLOB_PREFIX) or is_bundle(e.name)}
        self.sizes = {c: int(sum(e.size for e in listed)) for c, listed in self.by_component.items()}


def _plan(ctx: OperationContext, meter: Meter, components: list[Component], exact: int, *known: _Previous) -> None:
    """Plan the bytes an archive of ``components`` will hold, as the newest archives (``known``,
    then the newest of each kind, read afresh: one written moments ago counts) hold them: exact for
    what has not changed since, an estimate for the rest. While some component is in no archive
    yet, plan the components instead (one item each) rather than a total that is far too low."""
    sources = list(known)
    if not sources or any(c.value not in p.sizes for p in sources for c in components):
        newest = (ArchiveKind.ENVIRONMENT_BACKUP, ArchiveKind.ARTIFACT_SNAPSHOT)
        with ctx.db.read() as conn:
            sources += [_Previous(ctx, conn, kind) for kind in newest]
    sizes = [next((p.sizes[c.value] for p in sources if c.value in p.sizes), None) for c in components]
    if all(size is not None for size in sizes):
        meter.plan(bytes_total=exact + sum(size or 0 for size in sizes))
    else:
        meter.plan(items_total=len(components))


def write_archive(
    ctx: OperationContext,
    conn: sa.Connection,
    kind: str,
    components: Iterable[Component],
    created: dt.datetime,
    meter: Meter = NO_METER,
) -> Written:
    """Archive ``components`` as seen by ``conn`` (a snapshot) and record it in the catalogue."""
    s = ctx.settings
    source = {"environment": s.environment_name, "version": s.version, "service_type": s.service_type.value}
    chosen = list(components)
    generations = {c.value: generation(conn, c) for c in chosen}
    last = archives.latest(conn, kind)
    if last is not None and last["generations"] == generations and last["source"] == source:
        # Nothing changed since the last archive of this kind: the new one is the same archive
        # under a new name. No content is read, no manifest written.
        same: dict[str, Any] = {
            **{k: last[k] for k in ("kind", "manifest_id", "size", "components", "digests", "generations", "source")},
            "created": created,
        }
        meter.plan(bytes_total=int(last["size"]))
        meter.advance(nbytes=int(last["size"]))
        return Written(
            _record(ctx, same), load_manifest(ctx.blobs, last["manifest_id"]), int(last["size"]), int(last["size"])
        )
    previous = _Previous(ctx, conn, kind)
    _plan(ctx, meter, chosen, 0, previous)
    on_bytes = _Counter(meter)
    digests: dict[str, str] = {}
    reused = 0
    with ArchiveWriter(ctx.blobs, source=source) as writer:
        for component in chosen:
            current = generations[component.value]
            added = _add_component(ctx, conn, writer, component, current, previous, on_bytes)
            digests[component.value] = added.digest
            reused += added.reused
            on_bytes.flush()
            meter.advance(items=1)
        manifest = writer.finish()
    size = sum(e.size for _, e in manifest.entries())
    row: dict[str, Any] = {
        "kind": kind,
        "manifest_id": manifest.archive_id,
        "created": created,
        "size": size,
        "components": [c.value for c in chosen],
        "digests": digests,
        "generations": generations,
        "source": source,
    }
    return Written(_record(ctx, row), manifest, size, reused)


# Progress is reported in steps of this many bytes (and at each component's end): a report per
# chunk or reused group was thousands of locked updates per backup.
_REPORT_BYTES = 4 * 1024 * 1024


class _Counter:
    """Bytes done, passed on to a Meter in steps of at least _REPORT_BYTES."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._pending = 0

    def __call__(self, n: int) -> None:
        self._pending += n
        if self._pending >= _REPORT_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, 0
            self._meter.advance(nbytes=pending)


def _record(ctx: OperationContext, row: dict[str, Any]) -> str:
    """Insert under the first free name at or after the creation second."""
    created: dt.datetime = row["created"]
    with ctx.db.begin() as conn:
        name = archive_name(row["kind"], created)
        while archives.find(conn, name) is not None:
            created += dt.timedelta(seconds=1)
            name = archive_name(row["kind"], created)
        archives.record(conn, {**row, "name": name, "created": created})
    return name


@dataclass(frozen=True)
class _Added:
    digest: str
    reused: int  # bytes taken from the previous archive without reading them


def _add_component(
    ctx: OperationContext,
    conn: sa.Connection,
    writer: ArchiveWriter,
    component: Component,
    current_generation: int,
    previous: _Previous,
    on_bytes: Callable[[int], None],
) -> _Added:
    """Add one component as ``conn`` sees it, reusing what ``previous`` already holds: all of it if
    the component has not changed since (and its digest then), else each content-named entry (a
    file, the bundle) that is the same. The digest of a changed component is summed while its
    tables are read for their entries (one pass), unless the database has it cached."""
    old_entries = previous.by_component.get(component.value, [])
    unchanged = previous.generations.get(component.value) == current_generation
    if (
        old_entries
        and unchanged
        # the previous archive is kept by the catalogue, so its chunks are all there
        and writer.add_existing(component.value, old_entries, check_present=False)
    ):
        size = int(sum(e.size for e in old_entries))
        on_bytes(size)
        digest = previous.digests.get(component.value) or _digest(conn, component)
        return _Added(digest, size)
    cached = cached_digest(conn, component)
    sums = ComponentSums(component) if cached is None else None
    reused = 0
    for entry, content in prefetched(export_component(conn, ctx.blobs, component, sums), previous.blobs):
        old = previous.blobs.get(entry.name)
        if old is not None and writer.add_existing(component.value, [old], check_present=False):
            reused += old.size
            on_bytes(old.size)
            continue
        entry_kind = EntryKind.FILE if entry.name.startswith(BLOB_PREFIX) else EntryKind.RECORDS
        if isinstance(content, tuple):  # read ahead: handed over whole, cut without a copy
            on_bytes(sum(map(len, content)))
            writer.add_stream(component.value, entry.name, content, entry_kind)
        elif entry.open_file is not None:
            with entry.open_file() as handle:
                writer.add_reader(component.value, entry.name, _CountingReader(handle, on_bytes), entry_kind)
        else:
            writer.add_stream(component.value, entry.name, _counting(content, on_bytes), entry_kind)
    summed = sums.digest() if sums is not None else None
    return _Added(cached or summed or compute_component(conn, component), reused)


def _digest(conn: sa.Connection, component: Component) -> str:
    return cached_digest(conn, component) or compute_component(conn, component)


@dataclass(frozen=True)
class Composed:
    manifest: Manifest
    digests: dict[str, str]
    reused: int


def compose(
    ctx: OperationContext,
    conn: sa.Connection,
    base: Manifest,
    base_digests: dict[str, str],
    components: Iterable[Component],
    meter: Meter = NO_METER,
) -> Composed:
    """An unrecorded archive (for a transfer): the components ``base`` holds are taken from it as
    they are (with the digests recorded for them), the others as ``conn`` sees them, reusing the
    newest Environment Backup's entries where they have not changed (a clone with files then
    does not read every file again)."""
    previous = _Previous(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP)
    held: dict[str, list[Any]] = {}
    for component, entry in base.entries():
        held.setdefault(component, []).append(entry)
    components = list(components)
    exact = sum(sum(e.size for e in held.get(c.value, [])) for c in components if c.value in base_digests)
    live = [c for c in components if not (c.value in held and c.value in base_digests)]
    _plan(ctx, meter, live, exact, previous)
    on_bytes = _Counter(meter)
    digests: dict[str, str] = {}
    reused = 0
    with ArchiveWriter(ctx.blobs, source=dict(base.source)) as writer:
        for component in components:
            entries = held.get(component.value)
            if entries is not None and component.value in base_digests:
                if not writer.add_existing(component.value, entries):
                    for entry in entries:  # a gc is running: copy the content instead of referring to it
                        writer.add_stream(
                            component.value, entry.name, _read(ctx, base, component, entry.name), entry.kind
                        )
                digests[component.value] = base_digests[component.value]
                reused += sum(e.size for e in entries)
                on_bytes(sum(e.size for e in entries))
                on_bytes.flush()
                continue
            current = generation(conn, component)
            added = _add_component(ctx, conn, writer, component, current, previous, on_bytes)
            digests[component.value] = added.digest
            reused += added.reused
            on_bytes.flush()
            meter.advance(items=1)
        manifest = writer.finish()
    return Composed(manifest, digests, reused)


def _read(ctx: OperationContext, base: Manifest, component: Component, name: str) -> Iterator[bytes]:
    with ArchiveReader(ctx.blobs, base) as reader:
        yield from reader.read(component.value, name)
