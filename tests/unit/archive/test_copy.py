"""copy_archive: only the chunks the destination lacks cross, the copy reads back whole, the
manifest is published last (a copy stopped midway leaves no archive), and a damaged source chunk
is refused rather than copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.archive import (
    ArchiveReader,
    ChunkCorrupt,
    ChunkLayout,
    PackChunkStore,
    chunk_ids,
    chunks_of,
    list_archives,
    set_default_layout,
)
from envclone.archive.copy import copy_archive
from envclone.archive.layout import default_layout
from envclone.archive.packs import PACK_PREFIX
from envclone.blobs import LocalBlobStore

from ._helpers import flip_byte, sample, write_archive
from .conftest import pseudo_random


def test_a_copy_sends_every_chunk_once_then_nothing(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store)
    other = LocalBlobStore(tmp_path / "other")
    done: list[int] = []
    stats = copy_archive(store, other, manifest.archive_id, done.append)
    assert stats.chunks_sent == stats.chunks == len(chunk_ids(manifest)) and not stats.already
    assert sum(done) == stats.bytes_total == sum(e.size for _, e in manifest.entries())
    with ArchiveReader.open(other, manifest.archive_id) as reader:
        assert reader.check() == []
        assert reader.read_bytes("files", "b") == b"hello " * 5000
    again = copy_archive(store, other, manifest.archive_id)
    assert again.already and again.chunks_sent == 0 and again.bytes_sent == 0


def test_a_second_archive_sends_only_its_new_chunks(store: LocalBlobStore, tmp_path: Path) -> None:
    base = pseudo_random(200_000, b"base")
    first = write_archive(store, {"big": base})
    second = write_archive(store, {"big": base[:100_000] + b"changed" + base[100_000:]})
    other = LocalBlobStore(tmp_path / "other")
    copy_archive(store, other, first.archive_id)
    stats = copy_archive(store, other, second.archive_id)
    new = set(chunk_ids(second)) - set(chunk_ids(first))
    assert 0 < stats.chunks_sent == len(new) < stats.chunks


def test_a_cancelled_copy_publishes_no_manifest(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store)
    other = LocalBlobStore(tmp_path / "other")

    def stop() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_archive(store, other, manifest.archive_id, check=stop)
    assert list_archives(other) == []
    # The chunks that crossed before the stop stay: the next copy sends none of them again.
    assert copy_archive(store, other, manifest.archive_id).chunks_sent == 0
    assert list_archives(other) == [manifest.archive_id]


def test_a_damaged_source_chunk_is_not_copied(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store)
    flip_byte(store, chunk_ids(manifest)[0])
    other = LocalBlobStore(tmp_path / "other")
    with pytest.raises(ChunkCorrupt):
        copy_archive(store, other, manifest.archive_id)
    assert list_archives(other) == []


@pytest.mark.parametrize("source_layout", [ChunkLayout.BLOBS, ChunkLayout.PACKS])
def test_chunks_cross_not_packs_and_the_destination_packs_them_its_own_way(
    tmp_path: Path, source_layout: ChunkLayout
) -> None:
    before = default_layout()
    set_default_layout(source_layout)
    try:
        source = LocalBlobStore(tmp_path / "source")
        base = pseudo_random(150_000, b"base")
        first = write_archive(source, {"big": base})
        second = write_archive(source, {"big": base[:70_000] + b"changed" + base[70_000:], "c": b"c" * 9000})
    finally:
        set_default_layout(ChunkLayout.PACKS)
    try:
        destination = LocalBlobStore(tmp_path / "destination")
        stats = copy_archive(source, destination, second.archive_id)
    finally:
        set_default_layout(before)
    wanted = chunk_ids(second)
    source_chunks = chunks_of(LocalBlobStore(source.root))
    # What crossed is each chunk's stored form, as the source holds it: never a pack.
    assert stats.chunks_sent == len(wanted) and stats.bytes_sent == sum(map(source_chunks.size, wanted))
    copied = chunks_of(LocalBlobStore(destination.root))
    assert isinstance(copied, PackChunkStore) and not list(destination.list("chunks/"))
    (pack,) = destination.list(PACK_PREFIX)  # one pack of its own, holding exactly this archive's chunks
    assert {cid for cid in wanted if (where := copied.location(cid)) and where[0] == pack} == set(wanted)
    assert set(copied.ids()) == set(wanted) and set(wanted) != set(chunk_ids(first))
    if source_layout is ChunkLayout.PACKS:  # the source's two packs, one per archive, are not copied
        assert len(list(source.list(PACK_PREFIX))) == 2 and pack not in set(source.list(PACK_PREFIX))
    with ArchiveReader.open(LocalBlobStore(destination.root), second.archive_id) as reader:
        assert reader.check() == []
