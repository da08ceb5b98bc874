"""Reading content-addressed blobs with their hash checked: sound content streams whole, damaged
content raises before the last piece, and content_matches tells damaged, missing and sound apart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from blake3 import blake3

from envclone.blobs.checked import BlobDamaged, checked_read, content_matches, primed
from envclone.blobs.local import LocalBlobStore


def stored(tmp_path: Path, data: bytes) -> tuple[LocalBlobStore, str, str]:
    store = LocalBlobStore(tmp_path)
    content_hash = blake3(data).hexdigest()
    store.put(f"files/{content_hash}", data)
    return store, f"files/{content_hash}", content_hash


@pytest.mark.parametrize("size", [0, 10, 3 * 1024 * 1024 + 5])
def test_sound_content_streams_whole(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    store, key, content_hash = stored(tmp_path, data)
    assert b"".join(primed(checked_read(store, key, content_hash))) == data
    assert content_matches(store, key, content_hash)


def test_damaged_content_never_comes_out_whole(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    store, key, content_hash = stored(tmp_path, data)
    spoiled = bytearray(data)
    spoiled[-1] ^= 1
    store.put(key, bytes(spoiled))
    received = bytearray()
    with pytest.raises(BlobDamaged):
        for piece in checked_read(store, key, content_hash):
            received += piece
    assert len(received) < len(data)  # the last piece was held back
    assert not content_matches(store, key, content_hash)


def test_a_damaged_single_piece_fails_when_primed(tmp_path: Path) -> None:
    store, key, content_hash = stored(tmp_path, b"hello")
    store.put(key, b"hellO")
    with pytest.raises(BlobDamaged):
        primed(checked_read(store, key, content_hash))


def test_missing_content_does_not_match(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    assert not content_matches(store, "files/" + "0" * 64, "0" * 64)
