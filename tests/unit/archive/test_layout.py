"""Which ChunkStore ``chunks_of`` gives (archive/layout.py), and archives written, verified and
collected over pack files through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envclone.archive import (
    ArchiveReader,
    BlobChunkStore,
    ChunkCorrupt,
    ChunkLayout,
    PackChunkStore,
    UnknownAlgorithm,
    chunk_ids,
    chunks_of,
    gc,
    layout,
    set_default_layout,
    use_layout,
)
from envclone.archive.layout import default_layout
from envclone.archive.packs import LAYOUT_KEY, PACK_PREFIX
from envclone.blobs import LocalBlobStore

from ._helpers import sample, write_archive
from .conftest import pseudo_random


@pytest.fixture
def default_blobs() -> Iterator[None]:
    """Whatever ENVCLONE_CHUNK_LAYOUT the run forces, these tests start from the built-in default."""
    before = default_layout()
    set_default_layout(ChunkLayout.BLOBS)
    yield
    set_default_layout(before)


@pytest.fixture
def packed(tmp_path: Path, default_blobs: None) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "packed")
    use_layout(store, ChunkLayout.PACKS)
    return store


def test_a_store_without_marker_is_one_blob_per_chunk(store: LocalBlobStore, default_blobs: None) -> None:
    assert isinstance(chunks_of(store), BlobChunkStore)
    assert use_layout(store, ChunkLayout.BLOBS) is ChunkLayout.BLOBS
    assert not store.exists(LAYOUT_KEY)


def test_moving_to_packs_is_for_good(store: LocalBlobStore, default_blobs: None) -> None:
    assert use_layout(store, ChunkLayout.PACKS) is ChunkLayout.PACKS
    assert isinstance(chunks_of(store), PackChunkStore)
    reopened = LocalBlobStore(store.root)
    assert use_layout(reopened, ChunkLayout.BLOBS) is ChunkLayout.PACKS
    assert isinstance(chunks_of(reopened), PackChunkStore)


def test_the_default_layout_marks_a_store_at_its_first_pack(store: LocalBlobStore, default_blobs: None) -> None:
    set_default_layout(ChunkLayout.PACKS)
    sample(store, "a")
    assert store.exists(LAYOUT_KEY)
    set_default_layout(ChunkLayout.BLOBS)
    assert isinstance(chunks_of(LocalBlobStore(store.root)), PackChunkStore)


def test_an_unknown_marker_is_refused(store: LocalBlobStore, default_blobs: None) -> None:
    store.put(LAYOUT_KEY, b"shards-v9\n")
    with pytest.raises(UnknownAlgorithm):
        chunks_of(LocalBlobStore(store.root))


def test_archives_round_trip_over_packs(packed: LocalBlobStore) -> None:
    data = {"a": pseudo_random(200_000, b"a"), "b": b"hello " * 5000}
    manifest = write_archive(packed, data, "one")
    assert list(packed.list(PACK_PREFIX)) and not list(packed.list("chunks/"))
    with ArchiveReader.open(LocalBlobStore(packed.root), "one") as reader:
        assert reader.read_bytes("files", "a") == data["a"]
        assert reader.check() == []
    assert set(chunk_ids(manifest)) <= set(chunks_of(packed).ids())


def test_verify_finds_a_damaged_chunk_inside_a_pack(packed: LocalBlobStore) -> None:
    manifest = write_archive(packed, {"a": pseudo_random(50_000, b"v")}, "one")
    (pack,) = packed.list(PACK_PREFIX)
    path = packed.path(pack)
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # inside the first chunk
    path.write_bytes(bytes(data))
    with ArchiveReader.open(LocalBlobStore(packed.root), "one") as reader:
        problems = reader.check()
    assert [type(p) for p in problems] == [ChunkCorrupt]
    assert problems[0].chunk_id in chunk_ids(manifest)


def test_gc_over_packs_drops_what_no_archive_keeps(packed: LocalBlobStore) -> None:
    keep = write_archive(packed, {"k": pseudo_random(30_000, b"k")}, "keep")
    drop = write_archive(packed, {"d": pseudo_random(30_000, b"d")}, "drop")
    result = gc(packed, ["keep"], grace_seconds=0)
    assert set(result.deleted_chunks) == set(chunk_ids(drop))
    assert result.packs is not None and len(result.packs.dropped_packs) == 1  # each archive sealed its own pack
    fresh = LocalBlobStore(packed.root)
    assert set(chunks_of(fresh).ids()) == set(chunk_ids(keep))
    with ArchiveReader.open(fresh, "keep") as reader:
        assert reader.check() == []
    assert gc(packed, ["keep"], grace_seconds=0).deleted_chunks == []


def test_gc_moves_an_old_store_into_packs(store: LocalBlobStore, default_blobs: None) -> None:
    manifest = sample(store, "old")
    assert list(store.list("chunks/"))
    use_layout(store, ChunkLayout.PACKS)
    result = gc(store, ["old"], grace_seconds=0)
    assert result.packs is not None and result.packs.migrated_chunks == len(chunk_ids(manifest))
    assert not list(store.list("chunks/"))
    with ArchiveReader.open(LocalBlobStore(store.root), "old") as reader:
        assert reader.check() == []


def test_a_store_read_as_blobs_sees_another_process_move_it_to_packs(
    store: LocalBlobStore, default_blobs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(chunks_of(store), BlobChunkStore)
    use_layout(LocalBlobStore(store.root), ChunkLayout.PACKS)  # another process, asked for packs
    assert isinstance(chunks_of(store), BlobChunkStore)  # remembered a while: no read per call
    monkeypatch.setattr(layout, "_RECHECK_BLOBS_SECONDS", 0.0)
    assert isinstance(chunks_of(store), PackChunkStore)  # then read again: packs, for good
