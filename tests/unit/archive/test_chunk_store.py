"""BlobChunkStore's own layout (what every archive so far was written in); its ChunkStore
behaviour is held by tests/contract/test_chunk_store_contract.py."""

from __future__ import annotations

import pytest

from envclone.archive import ArchiveError, BlobChunkStore, chunk_id, chunks_of
from envclone.blobs import LocalBlobStore


def test_one_blob_per_chunk_fanned_out_by_prefix(store: LocalBlobStore) -> None:
    cid = chunk_id(b"x")
    assert BlobChunkStore.key(cid) == f"chunks/{cid[:2]}/{cid}"
    assert BlobChunkStore.id_of(BlobChunkStore.key(cid)) == cid
    store.put(f"chunks/{cid[:2]}/{cid}", b"written before the ChunkStore existed")
    assert chunks_of(store).get(cid) == b"written before the ChunkStore existed"


def test_ids_skip_keys_that_are_not_a_chunk(store: LocalBlobStore) -> None:
    cid = chunk_id(b"x")
    chunks = BlobChunkStore(store)
    chunks.put(cid, b"blob")
    for foreign in (f"chunks/zz/{cid}", f"chunks/{cid[:2]}/{cid}.tmp", f"chunks/{cid}", "manifests/abc"):
        store.put(foreign, b"other")
        assert BlobChunkStore.id_of(foreign) is None
    assert list(chunks.ids()) == [cid]


def test_invalid_id_is_refused_before_the_blob_store() -> None:
    with pytest.raises(ArchiveError):
        BlobChunkStore.key("../etc/passwd")
