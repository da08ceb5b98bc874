from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import zstandard

from envclone.archive.errors import ManifestCorrupt, UnknownAlgorithm
from envclone.archive.ids import chunk_id
from envclone.archive.manifest import Algorithms, ChunkRef, ComponentEntries, Entry, EntryKind, Manifest, _canonical


def make_manifest() -> Manifest:
    a, b = chunk_id(b"a"), chunk_id(b"b")
    return Manifest(
        archive_id="test-1",
        created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        source={"name": "prod", "version": "24.1", "service_type": "EPM"},
        algorithms=Algorithms({"name": "fastcdc2020-1m"}, "blake3-256", "zstd-3"),
        components=(
            ComponentEntries(
                "files", (Entry("x.csv", EntryKind.FILE, (ChunkRef(a, 1), ChunkRef(b, 1), ChunkRef(a, 1))),)
            ),
            ComponentEntries("jobConsole", (Entry("records", EntryKind.RECORDS, ()),)),
        ),
    )


def test_json_round_trip_keeps_everything() -> None:
    manifest = make_manifest()
    loaded = Manifest.from_json(manifest.to_json())
    assert loaded == manifest
    assert loaded.digest == manifest.digest
    assert Manifest.from_blob(manifest.to_blob()) == manifest


def test_counts_and_lookup() -> None:
    manifest = make_manifest()
    assert manifest.counts() == {"components": 2, "entries": 2, "chunks": 3, "unique_chunks": 2, "bytes": 3}
    assert manifest.entry("files", "x.csv").size == 3
    with pytest.raises(KeyError):
        manifest.entry("files", "nope")


def test_self_hash_covers_every_field() -> None:
    body = json.loads(make_manifest().to_json())
    assert body["hash"] == make_manifest().digest
    body["source"]["name"] = "staging"
    with pytest.raises(ManifestCorrupt, match="hash"):
        Manifest.from_json(json.dumps(body).encode())


def test_counts_must_agree_even_when_rehashed() -> None:
    manifest = make_manifest()
    body = json.loads(manifest.to_json())
    body.pop("hash")
    body["counts"]["bytes"] = 99
    body["hash"] = chunk_id(_canonical(body))  # a forger who recomputes the hash
    with pytest.raises(ManifestCorrupt, match="counts"):
        Manifest.from_json(json.dumps(body).encode())


def test_unknown_algorithms_are_reported() -> None:
    body = json.loads(make_manifest().to_json())
    body["algorithms"]["hash"] = "md5"
    with pytest.raises(UnknownAlgorithm, match="md5"):
        Manifest.from_json(json.dumps(body).encode())


@pytest.mark.parametrize("raw", [b"not json", b"{}", b"[]"])
def test_garbage_is_corrupt(raw: bytes) -> None:
    with pytest.raises(ManifestCorrupt):
        Manifest.from_json(raw)


def test_damaged_blob_is_corrupt() -> None:
    blob = bytearray(make_manifest().to_blob())
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(ManifestCorrupt):
        Manifest.from_blob(bytes(blob))
    with pytest.raises(ManifestCorrupt):
        Manifest.from_blob(zstandard.ZstdCompressor().compress(b"{"))
