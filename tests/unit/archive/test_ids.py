from __future__ import annotations

from datetime import UTC, datetime

import pytest

from envclone.archive.errors import ArchiveError, UnknownAlgorithm
from envclone.archive.ids import (
    check_archive_id,
    chunk_id,
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


def test_only_hex_blake3_ids_are_chunk_ids() -> None:
    assert not is_chunk_id("../etc/passwd")
    assert not is_chunk_id(chunk_id(b"x").upper())


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
