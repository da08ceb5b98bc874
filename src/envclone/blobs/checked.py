"""Content-addressed blobs (file contents, images) read with their hash checked. A blob's key names
the BLAKE3 of its content, so a flipped byte on disk is found by hashing what is read. A stream
holds back its last piece until the whole content is hashed: a damaged blob never reaches a client
whole (the response is cut short instead, which every HTTP client reports as an error), and no
damaged byte is served as if it were sound."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain

from blake3 import blake3

from envclone.blobs.store import BlobStore
from envclone.errors import EnvcloneError, NotFound

log = logging.getLogger("envclone.blobs")


class BlobDamaged(EnvcloneError, code="blob_damaged", status=500, exit_code=6):
    """A stored file's content does not match its hash: the store is damaged."""


def checked_read(store: BlobStore, key: str, expected_hash: str) -> Iterator[bytes]:
    """The blob's bytes, raising BlobDamaged (before the last piece) if they do not hash to
    ``expected_hash``. Also raises if the blob is missing (the store's NotFound)."""
    hasher = blake3(max_threads=1)
    held: bytes | None = None
    for piece in store.read(key):
        hasher.update(piece)
        if held is not None:
            yield held
        held = piece
    if hasher.hexdigest() != expected_hash:
        log.error("damaged blob %s: its content does not match its hash", key)
        raise BlobDamaged(f"the stored content of {key} is damaged (its hash does not match); restore it from a backup")
    if held is not None:
        yield held


def primed(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The same stream with its first piece already read: a blob that fits in one piece is checked
    whole before a response starts, so its damage is a proper error response, not a cut one."""
    first = next(pieces, None)
    return pieces if first is None else chain((first,), pieces)


def content_matches(store: BlobStore, key: str, expected_hash: str) -> bool:
    """Whether the blob exists and its content hashes to ``expected_hash``."""
    if not store.exists(key):
        return False
    hasher = blake3(max_threads=blake3.AUTO)
    try:
        for piece in store.read(key):
            hasher.update(piece)
    except NotFound:  # deleted meanwhile
        return False
    return bool(hasher.hexdigest() == expected_hash)
