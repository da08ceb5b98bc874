"""A BlobStore in a local directory: each blob one file, written to a temporary file and renamed
into place so readers never see a partial blob."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from envclone.blobs._keys import check_key as _check_key
from envclone.errors import DiskFull, NotFound

log = logging.getLogger("envclone.blobs")
# A full disk (or quota) is the operator's to fix, not an internal error: it is reported as such.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


@contextlib.contextmanager
def _space_checked(root: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            # The path is the operator's, in the log; a client (or a clone's source) reads the reason.
            log.warning("no space left on the device that holds %s: %s", root, exc.strerror)
            raise DiskFull("no space left on the disk of the server's blob store; free some space, try again") from exc
        raise


# The name ``put`` writes beside its target before the rename: ``.<name>.<pid>.<thread>.tmp``.
_PUT_TEMP = re.compile(r"^\..+\.\d+\.\d+\.tmp$")


class _Durability:
    """Whether this process changed a local blob since its last ``os.sync()``. One ``os.sync()``
    makes every earlier write of the machine durable, but it also flushes whatever else the
    machine wrote: seconds on a busy disk. A sync with nothing written since the last one (an
    unchanged clone's have/want, a verify) skips it. The count is per process, not per store:
    ``os.sync()`` covers every store, and a sync in progress is waited for, so a caller whose
    writes it covers never returns before it is done."""

    def __init__(self) -> None:
        self._count = threading.Lock()  # taken per write: cheap beside the file's own syscalls
        self._syncing = threading.Lock()  # held through os.sync()
        self._writes = 0
        self._synced = -1  # the first sync of a process always runs

    def wrote(self) -> None:
        with self._count:
            self._writes += 1

    def sync(self) -> None:
        with self._syncing:
            with self._count:
                now = self._writes
            if now == self._synced:
                return
            os.sync()
            self._synced = now


_durability = _Durability()


class _LocalWriter:
    def __init__(self, store: LocalBlobStore, *, sync: bool = True) -> None:
        self._store = store
        self._sync = sync
        fd, name = tempfile.mkstemp(dir=store.root / ".tmp")
        self._path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._done = False

    def write(self, data: bytes) -> None:
        with _space_checked(self._store.root):
            self._file.write(data)

    def commit(self, key: str) -> None:
        target = self._store.path(key)
        with _space_checked(self._store.root):
            self._file.flush()
            if self._sync:
                os.fsync(self._file.fileno())
            self._file.close()
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path, target)
        _durability.wrote()
        self._done = True

    def abort(self) -> None:
        if not self._done:
            self._file.close()
            self._path.unlink(missing_ok=True)
            self._done = True


class LocalBlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self._folders: set[str] = set()
        (self.root / ".tmp").mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def writer(self) -> _LocalWriter:
        return _LocalWriter(self)

    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        """Write beside the target and rename. Plain strings and a cache of made directories: an
        archive puts thousands of small chunks, and each syscall saved shows."""
        target = os.path.join(self._root, _check_key(key))
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        temp = f"{folder}/.{os.path.basename(target)}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with _space_checked(self.root), open(temp, "wb") as handle:
                handle.write(data)
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, target)
            _durability.wrote()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def sync(self) -> None:
        # One call makes every unsynced put durable; cheaper than an fsync per chunk.
        _durability.sync()

    def read(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        try:
            handle = self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None
        return self._chunks(handle, chunk_size)

    @staticmethod
    def _chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
        with handle as f:
            while block := f.read(chunk_size):
                yield block

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            fd = os.open(os.path.join(self._root, _check_key(key)), os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None
        try:
            parts: list[bytes] = []
            while length > 0 and (piece := os.pread(fd, length, offset)):
                parts.append(piece)
                offset += len(piece)
                length -= len(piece)
            return b"".join(parts)
        finally:
            os.close(fd)

    def exists(self, key: str) -> bool:
        return os.path.isfile(os.path.join(self._root, _check_key(key)))

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        _durability.wrote()

    def list(self, prefix: str = "") -> Iterator[str]:
        # Walk only below the prefix's directory, with plain strings: this runs over every chunk.
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        top = os.path.join(self.root, base) if base else str(self.root)
        root_len = len(str(self.root)) + 1
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != ".tmp"]
            rel = dirpath[root_len:].replace(os.sep, "/")
            for name in filenames:
                if name[0] == "." and _PUT_TEMP.match(name):
                    continue  # a put in progress: not a blob yet
                key = f"{rel}/{name}" if rel else name
                if key.startswith(prefix):
                    yield key
