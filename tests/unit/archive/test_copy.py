"""copy_archive: only the chunks the destination lacks cross, the copy reads back whole, the
manifest is published last (a copy stopped midway leaves no archive), and a damaged source chunk
is refused rather than copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.archive import ArchiveReader, ChunkCorrupt, chunk_ids, list_archives
from envclone.archive.copy import copy_archive
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
