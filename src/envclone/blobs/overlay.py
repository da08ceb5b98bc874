"""A BlobStore seen through a scratch store: reads find a blob in the scratch store first, then in
the base; every write and delete goes to the scratch store only. What a dry run uses to run the
real code (archive writers, imports) while leaving the base exactly as it was: drop the scratch
store afterwards and nothing was written. Keeps the BlobStore contract over the union of both."""

from __future__ import annotations

from collections.abc import Iterator

from envclone.blobs.store import BlobStore, BlobWriter, read_range


class OverlayBlobStore:
    def __init__(self, base: BlobStore, scratch: BlobStore) -> None:
        self.base, self.scratch = base, scratch
        # Keys deleted through the overlay that the base still holds: hidden, as the contract wants
        # a deleted key gone, though the base is never touched.
        self._hidden: set[str] = set()

    def _in_base(self, key: str) -> bool:
        return key not in self._hidden and self.base.exists(key)

    def _reader(self, key: str) -> BlobStore:
        return self.scratch if self.scratch.exists(key) or not self._in_base(key) else self.base

    def writer(self) -> BlobWriter:
        return _OverlayWriter(self, self.scratch.writer())

    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        self.scratch.put(key, data, sync=sync)
        self._hidden.discard(key)

    def sync(self) -> None:
        self.scratch.sync()

    def read(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        return self._reader(key).read(key, chunk_size)

    def get(self, key: str) -> bytes:
        return self._reader(key).get(key)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return read_range(self._reader(key), key, offset, length)

    def exists(self, key: str) -> bool:
        return self.scratch.exists(key) or self._in_base(key)

    def size(self, key: str) -> int:
        return self._reader(key).size(key)

    def delete(self, key: str) -> None:
        self.scratch.delete(key)
        if self.base.exists(key):
            self._hidden.add(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        seen: set[str] = set()
        for key in self.scratch.list(prefix):
            seen.add(key)
            yield key
        for key in self.base.list(prefix):
            if key not in seen and key not in self._hidden:
                yield key


class _OverlayWriter:
    def __init__(self, store: OverlayBlobStore, inner: BlobWriter) -> None:
        self._store, self._inner = store, inner

    def write(self, data: bytes) -> None:
        self._inner.write(data)

    def commit(self, key: str) -> None:
        self._inner.commit(key)
        self._store._hidden.discard(key)

    def abort(self) -> None:
        self._inner.abort()
