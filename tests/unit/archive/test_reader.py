from __future__ import annotations

import pytest

from envclone.archive import (
    ArchiveNotFound,
    ArchiveReader,
    ChunkCorrupt,
    ChunkMissing,
    ManifestCorrupt,
    chunks_of,
    list_archives,
    manifest_key,
)
from envclone.blobs import LocalBlobStore

from ._helpers import flip_byte, sample


def test_open_and_list(store: LocalBlobStore) -> None:
    manifest = sample(store, "one")
    sample(store, "two")
    assert list_archives(store) == ["one", "two"]
    with ArchiveReader.open(store, "one") as reader:
        assert reader.manifest == manifest
        assert reader.check() == []
        assert reader.read_bytes("files", "b") == b"hello " * 5000


def test_missing_archive(store: LocalBlobStore) -> None:
    with pytest.raises(ArchiveNotFound):
        ArchiveReader.open(store, "nope")


def test_damaged_manifest_blob(store: LocalBlobStore) -> None:
    sample(store, "one")
    store.put(manifest_key("one"), b"garbage")
    with pytest.raises(ManifestCorrupt):
        ArchiveReader.open(store, "one")


def test_missing_chunk_is_named(store: LocalBlobStore) -> None:
    manifest = sample(store)
    victim = manifest.entry("files", "a").chunks[2].id
    chunks_of(store).delete(victim)
    with ArchiveReader(store, manifest) as reader, pytest.raises(ChunkMissing) as caught:
        b"".join(reader.read("files", "a"))
    assert caught.value.chunk_id == victim
    assert caught.value.entry == "files/a"
    assert victim in str(caught.value)
    assert caught.value.code == "chunk_missing"


@pytest.mark.parametrize("offset", [0, 1, -1])
def test_damaged_chunk_is_named(store: LocalBlobStore, offset: int) -> None:
    manifest = sample(store)
    victim = manifest.entry("files", "b").chunks[0].id
    flip_byte(store, victim, offset)
    with ArchiveReader(store, manifest) as reader:
        with pytest.raises(ChunkCorrupt) as caught:
            reader.read_bytes("files", "b")
        assert (caught.value.chunk_id, caught.value.entry) == (victim, "files/b")
        assert reader.read_bytes("files", "a")  # other entries stay readable


def test_check_reports_every_problem(store: LocalBlobStore) -> None:
    manifest = sample(store)
    missing = manifest.entry("files", "a").chunks[0].id
    damaged = manifest.entry("files", "b").chunks[0].id
    chunks_of(store).delete(missing)
    flip_byte(store, damaged)
    with ArchiveReader(store, manifest, workers=2) as reader:
        problems = reader.check()
    assert sorted((type(p).__name__, p.chunk_id) for p in problems) == sorted(
        [("ChunkMissing", missing), ("ChunkCorrupt", damaged)]
    )


def test_chunks_are_yielded_in_order_with_read_ahead(store: LocalBlobStore) -> None:
    manifest = sample(store)
    with ArchiveReader(store, manifest, workers=1) as reader:
        pieces = list(reader.read("files", "a"))
    assert [len(p) for p in pieces] == [c.size for c in manifest.entry("files", "a").chunks]
