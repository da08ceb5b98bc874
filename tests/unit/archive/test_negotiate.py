from __future__ import annotations

from pathlib import Path

from envclone.archive import chunk_ids, chunks_of, missing_chunks, missing_for
from envclone.blobs import LocalBlobStore

from ._helpers import sample, write_archive


def test_chunk_ids_unique_in_order(store: LocalBlobStore) -> None:
    manifest = write_archive(store, {"a": b"same", "b": b"same", "c": b"other"})
    ids = chunk_ids(manifest)
    assert len(ids) == 2
    assert ids[0] == manifest.entry("files", "a").chunks[0].id


def test_missing_chunks(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store)
    ids = chunk_ids(manifest)
    assert missing_chunks(store, ids) == []
    chunks_of(store).delete(ids[1])
    assert missing_chunks(store, [*ids, ids[1]]) == [ids[1]]
    empty = LocalBlobStore(tmp_path / "other")
    assert missing_for(empty, manifest) == ids
