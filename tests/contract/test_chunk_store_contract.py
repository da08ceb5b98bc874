"""The ChunkStore contract (``envclone.archive.ChunkStore``), run on every implementation in
``_implementations.CHUNK_STORES``. A test here states the contract, never one layout."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from envclone.archive import ArchiveError, ChunkMissing, ChunkStore, chunk_id
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode

from ._implementations import CHUNK_STORES

CODEC = compression(DEFAULT_COMPRESSION)
ABSENT = chunk_id(b"never stored")
BAD_IDS = ["", "../etc/passwd", ABSENT.upper(), ABSENT[:-1], ABSENT + "0", "g" * 64, f"{ABSENT[:2]}/{ABSENT}"]


def stored(content: bytes) -> tuple[str, bytes]:
    """A chunk id and its stored form, as the writer makes them."""
    return chunk_id(content), encode(content, CODEC)


@pytest.fixture(params=sorted(CHUNK_STORES))
def chunks(request: pytest.FixtureRequest, tmp_path: Path) -> ChunkStore:
    return CHUNK_STORES[request.param](tmp_path)


def test_get_returns_exactly_what_was_put(chunks: ChunkStore) -> None:
    cid, blob = stored(b"hello " * 1000)
    assert not chunks.exists(cid)
    chunks.put(cid, blob)
    assert chunks.exists(cid)
    assert chunks.get(cid) == blob
    assert chunks.size(cid) == len(blob)


def test_bytes_are_opaque_and_not_verified_here(chunks: ChunkStore) -> None:
    # The reader verifies after get; the store must hand back damage as stored, for it to be named.
    cid, _ = stored(b"content")
    chunks.put(cid, b"not the stored form of that content")
    assert chunks.get(cid) == b"not the stored form of that content"


def test_missing_chunk_raises_chunk_missing_naming_it(chunks: ChunkStore) -> None:
    assert not chunks.exists(ABSENT)
    for call in (chunks.get, chunks.size):
        with pytest.raises(ChunkMissing) as caught:
            call(ABSENT)
        assert caught.value.chunk_id == ABSENT
    assert chunks.age(ABSENT, time.time()) is None
    chunks.delete(ABSENT)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids_are_refused_everywhere(chunks: ChunkStore, bad: str) -> None:
    for call in (
        lambda: chunks.put(bad, b"x"),
        lambda: chunks.get(bad),
        lambda: chunks.exists(bad),
        lambda: chunks.size(bad),
        lambda: chunks.delete(bad),
        lambda: chunks.age(bad, 0.0),
    ):
        with pytest.raises(ArchiveError):
            call()
    assert list(chunks.ids()) == []


def test_put_is_idempotent(chunks: ChunkStore) -> None:
    cid, blob = stored(b"twice")
    chunks.put(cid, blob)
    chunks.put(cid, blob)
    assert chunks.get(cid) == blob
    assert list(chunks.ids()) == [cid]


def test_unsynced_put_then_sync(chunks: ChunkStore) -> None:
    cid, blob = stored(b"lazy")
    chunks.put(cid, blob, sync=False)
    chunks.sync()
    assert chunks.get(cid) == blob


def test_delete(chunks: ChunkStore) -> None:
    (a, blob_a), (b, blob_b) = stored(b"a"), stored(b"b")
    chunks.put(a, blob_a)
    chunks.put(b, blob_b)
    chunks.delete(a)
    assert not chunks.exists(a)
    with pytest.raises(ChunkMissing):
        chunks.get(a)
    assert list(chunks.ids()) == [b]


def test_ids_lists_each_stored_chunk_once(chunks: ChunkStore) -> None:
    made = dict(stored(bytes([n]) * 100) for n in range(20))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    first = next(iter(made))
    chunks.put(first, made[first])  # again
    assert sorted(chunks.ids()) == sorted(made)


def test_age_counts_from_the_put(chunks: ChunkStore) -> None:
    cid, blob = stored(b"dated")
    before = time.time()
    chunks.put(cid, blob)
    age = chunks.age(cid, before + 1000)
    if age is not None:  # a store may not know; gc then keeps the chunk
        assert 990 < age <= 1000


def test_concurrent_puts_from_a_pool(chunks: ChunkStore) -> None:
    made = dict(stored(n.to_bytes(4, "big") * 500) for n in range(64))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: chunks.put(item[0], item[1], sync=False), made.items()))
    assert sorted(chunks.ids()) == sorted(made)
    assert all(chunks.get(cid) == blob for cid, blob in made.items())


def test_rewrite_never_hides_the_chunk(chunks: ChunkStore) -> None:
    # A writer rewrites chunks it reuses while gc runs (gc.py rule 2): readers must not miss them.
    cid, blob = stored(bytes(range(256)) * 1000)
    chunks.put(cid, blob)
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            chunks.put(cid, blob, sync=False)

    thread = threading.Thread(target=rewrite)
    thread.start()
    try:
        for _ in range(300):
            assert chunks.exists(cid)
            assert chunks.get(cid) == blob
            assert list(chunks.ids()) == [cid]
    finally:
        stop.set()
        thread.join()
