"""ArchiveReader: loads a manifest and streams entries back, verifying every chunk against its name.
A missing or damaged chunk raises an error naming it and its entry; nothing unverified is returned."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from envclone.archive._session import close_read_session, open_read_session
from envclone.archive.chunk_store import ChunkStore
from envclone.archive.compress import decode
from envclone.archive.errors import ArchiveNotFound, ChunkCorrupt, ChunkError, ChunkMissing
from envclone.archive.ids import MANIFEST_PREFIX, hasher, manifest_key
from envclone.archive.layout import chunks_of
from envclone.archive.manifest import ChunkRef, Manifest
from envclone.archive.writer import default_workers, lean_allocator
from envclone.blobs import BlobStore
from envclone.errors import NotFound

# Entries of at most this many bytes are read in the calling thread, chunk after chunk.
INLINE_BYTES = 256 * 1024


def load_manifest(store: BlobStore, archive_id: str) -> Manifest:
    try:
        blob = store.get(manifest_key(archive_id))
    except NotFound:
        raise ArchiveNotFound(f"archive {archive_id} not found") from None
    return Manifest.from_blob(blob)


def list_archives(store: BlobStore) -> list[str]:
    return sorted(key.removeprefix(MANIFEST_PREFIX) for key in store.list(MANIFEST_PREFIX))


def verify_chunk(blob: bytes, ref: ChunkRef, entry: str | None, hash_name: str) -> bytes:
    """Decode a stored chunk blob and check it is the chunk ``ref`` names; return its content."""
    try:
        data = decode(blob, ref.size)
    except ValueError as exc:
        raise ChunkCorrupt(ref.id, entry, str(exc)) from None
    if hasher(hash_name).digest(data) != ref.id:
        raise ChunkCorrupt(ref.id, entry, "content does not match its hash")
    return data


def fetch_blob(chunks: ChunkStore, ref: ChunkRef, entry: str | None) -> bytes:
    """The stored chunk, unverified; a missing one is reported with the entry it belongs to."""
    try:
        return chunks.get(ref.id)
    except ChunkMissing:
        raise ChunkMissing(ref.id, entry) from None


def read_chunk(chunks: ChunkStore, ref: ChunkRef, entry: str | None, hash_name: str) -> bytes:
    return verify_chunk(fetch_blob(chunks, ref, entry), ref, entry, hash_name)


class ArchiveReader:
    """Reads entries of one archive, fetching and verifying a bounded number of chunks ahead on a
    thread pool. Close it (or use it as a context manager) to stop its threads."""

    def __init__(self, store: BlobStore, manifest: Manifest, *, workers: int | None = None) -> None:
        lean_allocator()
        self.store = store
        self.chunks = chunks_of(store)
        self.manifest = manifest
        self._hash = manifest.algorithms.hash
        hasher(self._hash)
        self._workers = workers or default_workers()
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="archive-reader")
        self._session: str | None = open_read_session(store)

    @classmethod
    def open(cls, store: BlobStore, archive_id: str, *, workers: int | None = None) -> ArchiveReader:
        return cls(store, load_manifest(store, archive_id), workers=workers)

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._session is not None:
            close_read_session(self.store, self._session)
            self._session = None

    def read(self, component: str, name: str, *, ahead: int | None = None) -> Iterator[bytes]:
        """Yield the entry's content chunk by chunk, each verified before it is yielded. Up to
        ``ahead`` chunks (twice the workers unless told) are fetched ahead on the pool; a small
        entry (``INLINE_BYTES`` at most: a bundle of small files, a table) is read in the calling
        thread, since handing a few kilobytes to a thread and back costs more than reading them."""
        entry = self.manifest.entry(component, name)
        label = f"{component}/{name}"
        limit = 2 * self._workers if ahead is None else ahead
        if limit < 1 or len(entry.chunks) < 2 or entry.size <= INLINE_BYTES:
            yield from self._read_inline(entry.chunks, label)
            return
        refs = iter(entry.chunks)
        pending: deque[Future[bytes]] = deque()
        try:
            while True:
                while len(pending) < limit and (ref := next(refs, None)) is not None:
                    pending.append(self._pool.submit(read_chunk, self.chunks, ref, label, self._hash))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def _read_inline(self, refs: Sequence[ChunkRef], label: str) -> Iterator[bytes]:
        for ref in refs:
            yield read_chunk(self.chunks, ref, label, self._hash)

    def read_bytes(self, component: str, name: str) -> bytes:
        return b"".join(self.read(component, name))

    def check(self, on_chunk: Callable[[int], None] | None = None) -> list[ChunkError]:
        """Verify every chunk the archive refers to; return the problems found (empty if none).
        ``on_chunk`` is called with each checked chunk's size (progress; it may raise to stop)."""
        owners: dict[str, tuple[ChunkRef, str]] = {}
        for comp, entry in self.manifest.entries():
            for ref in entry.chunks:
                owners.setdefault(ref.id, (ref, f"{comp}/{entry.name}"))
        problems: list[ChunkError] = []
        pending: deque[tuple[Future[bytes], int]] = deque()

        def settle() -> None:
            future, size = pending.popleft()
            try:
                future.result()
            except ChunkError as exc:
                problems.append(exc)
            if on_chunk is not None:
                on_chunk(size)

        for ref, label in owners.values():
            pending.append((self._pool.submit(read_chunk, self.chunks, ref, label, self._hash), ref.size))
            if len(pending) >= 2 * self._workers:
                settle()
        while pending:
            settle()
        return problems
