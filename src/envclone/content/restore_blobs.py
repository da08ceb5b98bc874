"""Putting an archive's file contents (blob entries and bundles of small blobs) into a blob store,
several entries at once. Blobs are content-addressed, so this is harmless before the transaction
that makes rows refer to them (content/replace.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from envclone.blobs.checked import content_matches
from envclone.blobs.store import BlobStore
from envclone.content.bundle import is_bundle, unpack_bundle
from envclone.content.export import BLOB_PREFIX

OpenEntry = Callable[[str], Iterator[bytes]]
# Entries restore_blobs works on at once (each a thread); it reports progress this often.
RESTORE_WORKERS = 4
_STREAMS = 2
_REPORT_SECONDS = 0.2


def restore_blobs(
    blobs: BlobStore,
    entry_names: Iterable[str],
    open_entry: OpenEntry,
    on_bytes: Callable[[int], None] | None = None,
    *,
    repair: bool = False,
    workers: int = RESTORE_WORKERS,
) -> int:
    """Write the archive's blob entries the store does not hold yet, and with ``repair`` also
    those whose stored content does not match its hash (a damaged store: a restore repairs it).
    Returns how many were written.

    Several entries at once, each on a worker thread from its read to its last write: reading a
    chunk, decompressing it, hashing it and creating a file all wait on the disk or run without
    the GIL, and one after another they left the disk and the second core idle (tens of thousands
    of small files, a few kilobytes each). What is held is bounded by the entries in flight, not
    by the archive. ``on_bytes`` is called on the calling thread only, a few times a second (it
    may raise, e.g. to cancel: the workers then stop at their next chunk or file)."""
    names = [n for n in entry_names if is_bundle(n) or n.startswith(BLOB_PREFIX)]
    if not names:
        return 0
    run = _Restoring(blobs, open_entry, repair)
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="restore-blobs") as pool:
        pending: set[Future[int]] = set()
        try:
            for name in names:
                pending.add(pool.submit(run.entry, name))
                while len(pending) >= 2 * workers:
                    pending = run.settle(pending, on_bytes)
            while pending:
                pending = run.settle(pending, on_bytes)
        except BaseException:
            run.stop.set()
            for future in pending:
                future.cancel()
            raise
    if run.unsynced:
        blobs.sync()
    return run.written


class _Restoring:
    """The shared state of one ``restore_blobs``: counts under a lock, a stop flag for the workers."""

    def __init__(self, blobs: BlobStore, open_entry: OpenEntry, repair: bool) -> None:
        self._blobs, self._open, self._repair = blobs, open_entry, repair
        self._lock = threading.Lock()
        self.stop = threading.Event()
        # A blob entry (a file of a megabyte or more) holds a chunk of up to a few megabytes at a
        # time: two of them keep both cores busy, four would only hold twice as much.
        self._streams = threading.Semaphore(_STREAMS)
        self.written = self.unsynced = self._unreported = 0

    def _count(self, nbytes: int) -> None:
        if self.stop.is_set():
            raise _Stopped
        with self._lock:
            self._unreported += nbytes

    def settle(self, pending: set[Future[int]], on_bytes: Callable[[int], None] | None) -> set[Future[int]]:
        """Wait a little for entries to finish; raise the first failure; report the bytes done."""
        done, rest = wait(pending, timeout=_REPORT_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            future.result()
        with self._lock:
            nbytes, self._unreported = self._unreported, 0
        if on_bytes and nbytes:
            on_bytes(nbytes)
        return rest

    def entry(self, name: str) -> int:
        try:
            if is_bundle(name):
                written = unpack_bundle(self._blobs, self._open(name), self._count, repair=self._repair)
                with self._lock:
                    self.unsynced += written
                    self.written += written
                return written
            return self._blob(name)
        except _Stopped:
            return 0

    def _blob(self, name: str) -> int:
        content_hash = name.removeprefix(BLOB_PREFIX)
        key = "files/" + content_hash
        blobs = self._blobs
        if content_matches(blobs, key, content_hash) if self._repair else blobs.exists(key):
            return 0
        with self._streams:
            writer = blobs.writer()
            try:
                for chunk in self._open(name):
                    writer.write(chunk)
                    self._count(len(chunk))
                writer.commit(key)
            finally:
                writer.abort()
        with self._lock:
            self.written += 1
        return 1


class _Stopped(Exception):
    """Raised inside a worker once the restore stopped (a failure elsewhere, a cancel)."""
