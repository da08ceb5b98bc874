from __future__ import annotations

from datetime import UTC, datetime

import pytest

from envclone.archive.errors import ArchiveError, UnknownAlgorithm
from envclone.archive.ids import (
    check_archive_id,
    chunk_id,
    chunk_id_from_key,
    chunk_key,
    hasher,
    is_chunk_id,
    manifest_key,
    new_archive_id,
)


def test_chunk_id_is_blake3_hex() -> None:
    cid = chunk_id(b"hello")
    assert cid == "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"
    assert is_chunk_id(cid)
    assert hasher("blake3-256").digest(b"hello") == cid


def test_chunk_key_fans_out_by_prefix() -> None:
    cid = chunk_id(b"x")
    assert chunk_key(cid) == f"chunks/{cid[:2]}/{cid}"
    assert chunk_id_from_key(chunk_key(cid)) == cid
    assert chunk_id_from_key(f"chunks/zz/{cid}") is None
    assert chunk_id_from_key("manifests/abc") is None


def test_invalid_chunk_id_is_refused() -> None:
    with pytest.raises(ArchiveError):
        chunk_key("../etc/passwd")


def test_unknown_hash_is_named() -> None:
    with pytest.raises(UnknownAlgorithm, match="sha1"):
        hasher("sha1")


def test_archive_ids_sort_by_time_and_are_valid_keys() -> None:
    early = new_archive_id(datetime(2024, 1, 1, tzinfo=UTC))
    late = new_archive_id(datetime(2024, 1, 2, tzinfo=UTC))
    assert early < late
    assert manifest_key(early) == f"manifests/{early}"
    for bad in ("", "a/b", "..", "-x"):
        with pytest.raises(ArchiveError):
            check_archive_id(bad)
