"""How the archive format reaches stored chunks by id: the ChunkStore contract, and BlobChunkStore,
one blob per chunk (the layout before pack files; layout.py chooses). Moves stored bytes only: it
neither encodes nor verifies them, and knows nothing of manifests or sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from envclone.archive._age import blob_age
from envclone.archive.errors import ArchiveError, ChunkMissing
from envclone.archive.ids import is_chunk_id
from envclone.blobs import BlobStore
from envclone.errors import NotFound

_PREFIX = "chunks/"


class ChunkStore(Protocol):
    """Stored chunks by id. Every implementation passes ``tests/contract/test_chunk_store_contract.py``.

    - Ids are chunk ids: 64 lowercase hex digits, the BLAKE3-256 of the chunk's content. Every
      method refuses any other id with ``ArchiveError`` before touching its medium (ids arrive
      from peers and package files).
    - A chunk is stored in its stored form (compressed and framed by ``compress.encode``), which is
      opaque here: ``get`` returns exactly the bytes ``put`` was given, or raises ``ChunkMissing``.
    - Nothing is verified here. Whoever takes bytes in checks them against their id before ``put``
      (``negotiate.accept_chunk``, ``package.import_archive``; the writer computes the id itself);
      whoever reads checks after ``get`` (``reader.verify_chunk``, export included). So a damaged
      chunk comes back from ``get`` as stored, and the reader reports it by id and entry.
    - ``put`` is atomic (a reader sees all of the chunk or nothing) and idempotent: putting an id
      that is present stores it again without error, and its ``age`` starts again, which gc's rule 2
      (gc.py) relies on. With ``sync=False`` the chunk may be lost in a crash until ``sync()``
      returns: call ``sync()`` before publishing anything that refers to it.
    - ``delete`` of a missing chunk is not an error. ``ids()`` yields each stored id once, in no
      given order; a chunk put or deleted during the iteration may or may not appear.
    - ``age`` is seconds since the chunk was last put; None if the store cannot tell or the chunk is
      gone (gc never deletes a chunk it cannot date).
    - Safe to call from several threads at once: writers and readers run on thread pools.
    - Several processes may share the medium. ``get`` and ``size`` find a chunk another process
      stored and made durable (``sync``); ``exists`` may answer False for one for a few seconds,
      until ``refresh()``, which whoever declares a chunk missing calls first.
    """

    def put(self, cid: str, blob: bytes, *, sync: bool = True) -> None: ...

    def get(self, cid: str) -> bytes: ...

    def exists(self, cid: str) -> bool: ...

    def size(self, cid: str) -> int:
        """Length of the stored form (what ``get`` returns and a transfer sends); ``ChunkMissing``
        if absent."""

    def delete(self, cid: str) -> None: ...

    def ids(self) -> Iterator[str]: ...

    def age(self, cid: str, now: float) -> float | None: ...

    def sync(self) -> None:
        """Make every chunk put so far durable."""

    def refresh(self) -> bool:
        """Look again for chunks other processes stored since; whether anything new was seen."""


def _chunk_key(cid: str) -> str:
    if not is_chunk_id(cid):
        raise ArchiveError(f"invalid chunk id {cid!r}")
    return f"{_PREFIX}{cid[:2]}/{cid}"


def _chunk_id_from_key(key: str) -> str | None:
    if not key.startswith(_PREFIX):
        return None
    cid = key.rsplit("/", 1)[-1]
    return cid if is_chunk_id(cid) and key == f"{_PREFIX}{cid[:2]}/{cid}" else None


class BlobChunkStore:
    """One blob per chunk, under ``chunks/<first two hex digits>/<id>`` in a BlobStore. Each call is
    one BlobStore call, because get, put and exists run once per chunk of every archive."""

    # The blob key of a chunk, validating its id; part of this layout only (and of tests that
    # damage a chunk on disk), never of the ChunkStore contract.
    key = staticmethod(_chunk_key)
    # The chunk id stored under a blob key, or None if the key is not a chunk's.
    id_of = staticmethod(_chunk_id_from_key)

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def put(self, cid: str, blob: bytes, *, sync: bool = True) -> None:
        self.blobs.put(_chunk_key(cid), blob, sync=sync)

    def get(self, cid: str) -> bytes:
        try:
            return self.blobs.get(_chunk_key(cid))
        except NotFound:
            raise ChunkMissing(cid) from None

    def exists(self, cid: str) -> bool:
        return self.blobs.exists(_chunk_key(cid))

    def size(self, cid: str) -> int:
        try:
            return self.blobs.size(_chunk_key(cid))
        except NotFound:
            raise ChunkMissing(cid) from None

    def delete(self, cid: str) -> None:
        self.blobs.delete(_chunk_key(cid))

    def ids(self) -> Iterator[str]:
        for key in self.blobs.list(_PREFIX):
            cid = _chunk_id_from_key(key)
            if cid is not None:
                yield cid

    def age(self, cid: str, now: float) -> float | None:
        return blob_age(self.blobs, _chunk_key(cid), now)

    def sync(self) -> None:
        self.blobs.sync()

    def refresh(self) -> bool:
        return False  # every call asks the BlobStore: nothing is cached
