"""ArchiveWriter: cuts entries into chunks, stores each new chunk once (hashed and compressed on a
thread pool, with bounded work in flight) and publishes the manifest last. Never holds an entry.

Records entries (JSON lines of rows, bundles of small files) are cut finer than file entries: a
change to a few rows or small files scattered over a large entry then re-sends a few small chunks,
not every ~1 MiB chunk the changes fall in. Files keep larger chunks (fewer to store and move)."""

from __future__ import annotations

import ctypes
import os
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import TracebackType

from envclone.archive._session import GC_MARKER, marker_age, put_marker, session_key
from envclone.archive.chunker import (
    DEFAULT_CHUNKER,
    DEFAULT_RECORDS_CHUNKER,
    Chunker,
    IterReader,
    Readable,
    chunker_spec,
)
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode
from envclone.archive.errors import ArchiveError, DuplicateEntry
from envclone.archive.ids import DEFAULT_HASH, hasher, manifest_key, new_archive_id
from envclone.archive.layout import chunks_of
from envclone.archive.manifest import Algorithms, ChunkRef, ComponentEntries, Entry, EntryKind, Manifest, Metadata
from envclone.blobs import BlobStore

# A crashed writer's session marker stops blocking gc after this long (see gc.py).
DEFAULT_GRACE_SECONDS = 24 * 3600
# Chunks cut but not yet stored: enough to keep every worker busy while the next is cut, no more
# (the memory a writer holds is sized to its workers, never to the archive).
DEFAULT_IN_FLIGHT_BYTES = 32 * 1024 * 1024
# Chunks handed to one pool task at most (one large chunk is a task of its own).
_TASK_BYTES = 256 * 1024


# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


@cache
def lean_allocator() -> None:
    """Once per process, before archives are written or read: make glibc give chunk-sized buffers
    back to the system when they are freed. By default its mmap threshold rises to the largest
    buffer freed (1-4 MiB chunks here), after which such buffers come from per-thread arenas that
    keep their high-water mark: a first backup at bench scale 0.2 peaked at 219 MB RSS, 166 MB with
    this. Left alone when the environment sets either knob itself, and where there is no glibc."""
    if "MALLOC_ARENA_MAX" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, 256 * 1024)
    mallopt(_M_ARENA_MAX, 2)


def default_workers() -> int:
    # Storing is partly I/O (fsync, network), so a few threads more than cores keep the cores busy.
    return min((os.cpu_count() or 1) + 2, 16)


@dataclass
class WriteStats:
    bytes_in: int = 0
    chunks: int = 0
    new_chunks: int = 0
    stored_bytes: int = 0


@dataclass
class _PendingEntry:
    component: str
    name: str
    kind: EntryKind
    refs: list[ChunkRef] = field(default_factory=list)


class ArchiveWriter:
    """Write one archive. Entries may be added in any order; ``finish`` publishes the manifest and
    nothing refers to the archive before that. Not safe for use from several threads at once."""

    def __init__(
        self,
        store: BlobStore,
        *,
        source: Metadata | None = None,
        archive_id: str | None = None,
        chunker: str = DEFAULT_CHUNKER,
        records_chunker: str = DEFAULT_RECORDS_CHUNKER,
        compression_name: str = DEFAULT_COMPRESSION,
        workers: int | None = None,
        in_flight_bytes: int = DEFAULT_IN_FLIGHT_BYTES,
        allow_slow_chunker: bool = False,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
    ) -> None:
        lean_allocator()
        self._store = store
        self._chunks = chunks_of(store)
        self._created = datetime.now(UTC)
        self.archive_id = archive_id or new_archive_id(self._created)
        manifest_key(self.archive_id)
        self._source = dict(source or {})
        self._spec = chunker_spec(chunker)
        self._records_spec = chunker_spec(records_chunker)
        self._chunkers = {
            EntryKind.FILE: Chunker(self._spec, allow_slow=allow_slow_chunker),
            EntryKind.RECORDS: Chunker(self._records_spec, allow_slow=allow_slow_chunker),
        }
        self._codec = compression(compression_name)
        self._hash = hasher(DEFAULT_HASH)
        self._workers = workers or default_workers()
        self._max_pending = 2 * self._workers
        self._max_bytes = max(in_flight_bytes, self._spec.max_size)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="archive-writer")
        self._inflight: deque[tuple[_PendingEntry, int, Future[list[ChunkRef]]]] = deque()
        self._inflight_bytes = 0
        self._entries: dict[str, dict[str, _PendingEntry]] = {}
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self.stats = WriteStats()
        self._done = False
        # Announce ourselves before the first existence check; if a gc is running, reuse nothing.
        put_marker(store, session_key(self.archive_id))
        gc_age = marker_age(store, GC_MARKER)
        self._rewrite = gc_age is not None and gc_age < grace_seconds

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._done:
            self.abort()

    def add_stream(
        self,
        component: str,
        name: str,
        data: Iterable[bytes | bytearray | memoryview],
        kind: EntryKind = EntryKind.RECORDS,
    ) -> None:
        """Add an entry from an iterable of byte strings, consumed lazily."""
        self._cut(self._new_entry(component, name, kind), IterReader(data))

    def add_bytes(self, component: str, name: str, data: bytes, kind: EntryKind = EntryKind.RECORDS) -> None:
        self.add_stream(component, name, (data,), kind)

    def add_reader(self, component: str, name: str, stream: Readable, kind: EntryKind = EntryKind.FILE) -> None:
        """Add an entry read from ``stream`` (``readinto``) into the chunker's own buffers."""
        self._cut(self._new_entry(component, name, kind), stream)

    def add_file(self, component: str, name: str, path: str | Path) -> None:
        with open(path, "rb") as handle:
            self._cut(self._new_entry(component, name, EntryKind.FILE), handle)

    def add_existing(self, component: str, entries: Sequence[Entry], *, check_present: bool = True) -> bool:
        """Reuse entries of an earlier archive without reading their content (change tracking: the
        caller knows they did not change). All or nothing: refused (False, nothing added) while a gc
        runs or, with ``check_present``, if any chunk is gone; the caller then adds the content
        again. Skip the check only for entries of an archive that gc keeps."""
        self._check_open()
        refs = [ref for entry in entries for ref in entry.chunks]
        if self._rewrite:
            return False
        if check_present and not all(map(self._chunks.exists, {r.id: None for r in refs})):
            return False
        for entry in entries:
            self._new_entry(component, entry.name, entry.kind).refs.extend(entry.chunks)
        with self._lock:
            self._known.update(ref.id for ref in refs)
            self.stats.bytes_in += sum(ref.size for ref in refs)
            self.stats.chunks += len(refs)
        return True

    def finish(self) -> Manifest:
        """Wait for every chunk, then publish and return the manifest."""
        self._check_open()
        try:
            while self._inflight:
                self._drain_one()
            manifest = Manifest(
                archive_id=self.archive_id,
                created_at=self._created,
                source=self._source,
                algorithms=Algorithms(
                    {**self._spec.as_dict(), "records": self._records_spec.name}, self._hash.name, self._codec.name
                ),
                components=tuple(
                    ComponentEntries(comp, tuple(Entry(p.name, p.kind, tuple(p.refs)) for p in entries.values()))
                    for comp, entries in self._entries.items()
                ),
            )
            self._chunks.sync()
            self._store.put(manifest_key(self.archive_id), manifest.to_blob())
        except BaseException:
            self.abort()
            raise
        self._close()
        return manifest

    def abort(self) -> None:
        """Give up: no manifest is published; chunks already stored are left for gc."""
        if not self._done:
            for _, _, future in self._inflight:
                future.cancel()
            self._inflight.clear()
            self._close()

    def _close(self) -> None:
        self._done = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._store.delete(session_key(self.archive_id))

    def _check_open(self) -> None:
        if self._done:
            raise ArchiveError(f"archive {self.archive_id} is already finished or aborted")

    def _new_entry(self, component: str, name: str, kind: EntryKind) -> _PendingEntry:
        self._check_open()
        entries = self._entries.setdefault(str(component), {})
        if name in entries:
            raise DuplicateEntry(f"entry {component}/{name} was already added")
        entries[name] = entry = _PendingEntry(str(component), name, kind)
        return entry

    def _cut(self, entry: _PendingEntry, stream: Readable) -> None:
        # Small chunks (records, bundles: ~5 KiB) go to the pool several at a time: one task per
        # chunk cost more in futures and waiting than the chunk's hashing and compression.
        batch: list[memoryview] = []
        held = 0
        try:
            for view in self._chunkers[entry.kind].cut(stream):
                batch.append(view)  # the chunker never reuses a buffer: no copy
                held += len(view)
                if held >= _TASK_BYTES:
                    self._submit(entry, batch, held)
                    batch, held = [], 0
            if batch:
                self._submit(entry, batch, held)
        except BaseException:
            self.abort()
            raise

    def _submit(self, entry: _PendingEntry, pieces: list[memoryview], size: int) -> None:
        self._inflight.append((entry, size, self._pool.submit(self._store_chunks, pieces)))
        self._inflight_bytes += size
        while len(self._inflight) > self._max_pending or self._inflight_bytes > self._max_bytes:
            self._drain_one()

    def _drain_one(self) -> None:
        # Futures complete in submission order here, so each entry's chunk list keeps stream order.
        entry, size, future = self._inflight.popleft()
        self._inflight_bytes -= size
        entry.refs.extend(future.result())

    def _store_chunks(self, pieces: list[memoryview]) -> list[ChunkRef]:
        return [self._store_chunk(piece) for piece in pieces]

    def _store_chunk(self, piece: memoryview) -> ChunkRef:
        cid = self._hash.digest(piece)
        with self._lock:
            self.stats.bytes_in += len(piece)
            self.stats.chunks += 1
            known = cid in self._known
            # Claimed before storing: the same chunk in another task meanwhile is stored once.
            # Should storing fail, the writer aborts, so nothing refers to a chunk claimed here.
            self._known.add(cid)
        if not known and (self._rewrite or not self._chunks.exists(cid)):
            blob = encode(piece, self._codec)
            self._chunks.put(cid, blob, sync=False)  # made durable together before the manifest
            with self._lock:
                self.stats.new_chunks += 1
                self.stats.stored_bytes += len(blob)
        return ChunkRef(cid, len(piece))
