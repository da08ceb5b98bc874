"""The BlobStore contract every backend (local directory, object store) fulfils, and the factory
that picks one from a URL. Says nothing of what the bytes mean."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

if TYPE_CHECKING:
    from envclone.blobs.s3_location import S3Credentials


class BlobWriter(Protocol):
    """A blob being written. Nothing is visible under any key until ``commit``; ``abort`` (or
    never committing) leaves no trace."""

    def write(self, data: bytes) -> None: ...

    def commit(self, key: str) -> None:
        """Publish the written bytes under ``key`` atomically, replacing any blob there."""

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Contract, held by ``tests/contract/test_blob_store_contract.py`` for every implementation:

    - Keys are ``/``-separated segments of ``[A-Za-z0-9._-]``, none empty, ``.`` or ``..``. Every
      method taking a key (and ``commit``) raises ``ValueError`` for any other key, touching nothing.
    - ``put`` and ``commit`` are atomic and replace any blob under the key: a reader sees the old
      blob or the new one, never a part and never none. A blob may be empty.
    - ``get``, ``size`` and ``read`` of a missing key raise ``NotFound`` (``read`` at once, not at
      the first piece); ``exists`` answers False; ``delete`` of a missing key is not an error.
    - ``read`` yields pieces of at most ``chunk_size`` bytes that join to the blob.
    - ``list(prefix)`` yields each stored key that starts with ``prefix`` (a plain string prefix,
      not only whole segments; ``""`` lists all) once, in no given order. It never yields a blob
      still being written (a ``writer`` before ``commit``, nor a ``put`` in progress); a key put or
      deleted while listing may or may not appear.
    - Safe to call from several threads at once (archive writers put from a thread pool).
    Retry or caching layers wrap a BlobStore and keep this contract."""

    def writer(self) -> BlobWriter: ...

    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        """Atomic. With ``sync=False`` the blob may be lost in a crash until ``sync()`` returns:
        for bulk writers (archive chunks) that publish nothing referring to it before then."""

    def sync(self) -> None:
        """Make every blob put so far durable."""

    def read(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """Stream a blob; raises ``NotFound`` at once if the key is missing."""

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The blob's length in bytes, without reading it."""

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...


@runtime_checkable
class RangeReadable(Protocol):
    """A store that reads part of a blob without reading what comes before it (pack files)."""

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer at the blob's end); ``NotFound`` if the key
        is missing."""


def read_range(store: BlobStore, key: str, offset: int, length: int) -> bytes:
    """Part of a blob: directly where the store can, else streamed up to it (a store without ranged
    reads is still correct, only slower)."""
    if isinstance(store, RangeReadable):
        return store.read_range(key, offset, length)
    parts: list[bytes] = []
    position, end = 0, offset + length
    for piece in store.read(key):
        start, stop = max(offset - position, 0), min(end - position, len(piece))
        if start < stop:
            parts.append(piece[start:stop])
        position += len(piece)
        if position >= end:
            break
    return b"".join(parts)


def open_blob_store(url: str, *, credentials: S3Credentials | None = None) -> BlobStore:
    """A local folder for ``file://PATH``, an object store for ``s3://BUCKET/PREFIX?endpoint=...``
    (see ``s3_location``; ``credentials``, if given, win over the AWS environment and files). The
    S3 client is imported only when one is asked for: importing boto3 takes over a second."""
    from envclone.blobs.local import LocalBlobStore

    if url.startswith("file://"):
        return LocalBlobStore(url.removeprefix("file://"))
    if url.startswith("s3://"):
        from envclone.blobs.s3 import S3BlobStore
        from envclone.blobs.s3_location import parse_s3_url

        return S3BlobStore(parse_s3_url(url), credentials=credentials)
    # Not the URL itself: whatever it is, it might hold a secret.
    raise ValueError("unsupported blob store URL: it must start with file:// or s3://")


class _ChunksRaw(io.RawIOBase):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._rest:
            piece = next(self._chunks, None)
            if piece is None:
                return 0
            self._rest = memoryview(piece)
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def open_blob(store: BlobStore, key: str) -> BinaryIO:
    """A blob as a buffered binary file (for readers that want ``read(n)``), streamed."""
    return io.BufferedReader(_ChunksRaw(store.read(key)))
