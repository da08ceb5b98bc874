"""The BlobStore contract (``envclone.blobs.store.BlobStore``), run on every implementation in
``_implementations.BLOB_STORES``. A test here states the contract, never one medium's layout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from envclone.blobs import BlobStore
from envclone.blobs.store import open_blob, read_range
from envclone.errors import NotFound

from ._implementations import BLOB_STORES

BAD_KEYS = ["", "/a", "a/", "a//b", ".", "..", "../a", "a/../b", "a/./b", "a b", "a\\b", "é", "a/b?"]
GOOD_KEYS = ["a", "A-b_c.9", "x/y/z", ".hidden", "chunks/ab/abc"]


@pytest.fixture(params=sorted(BLOB_STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return BLOB_STORES[request.param](tmp_path)


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_put_get_exists_size(store: BlobStore, key: str) -> None:
    assert not store.exists(key)
    store.put(key, b"content")
    assert store.exists(key)
    assert store.get(key) == b"content"
    assert store.size(key) == len(b"content")


def test_empty_blob(store: BlobStore) -> None:
    store.put("empty", b"")
    assert store.exists("empty")
    assert (store.get("empty"), store.size("empty"), b"".join(store.read("empty"))) == (b"", 0, b"")


def test_put_replaces(store: BlobStore) -> None:
    store.put("k", b"old and longer")
    store.put("k", b"new")
    assert (store.get("k"), store.size("k")) == (b"new", 3)
    assert list(store.list("k")) == ["k"]


def test_missing_key(store: BlobStore) -> None:
    assert not store.exists("no/such")
    for call in (store.get, store.size, store.read):
        with pytest.raises(NotFound):
            call("no/such")  # read raises here, before any piece is asked for
    store.delete("no/such")


def test_delete(store: BlobStore) -> None:
    store.put("a/b", b"x")
    store.delete("a/b")
    assert not store.exists("a/b")
    assert list(store.list("")) == []
    with pytest.raises(NotFound):
        store.get("a/b")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused_everywhere(store: BlobStore, key: str) -> None:
    for call in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.read(key),
    ):
        with pytest.raises(ValueError):
            call()
    writer = store.writer()
    writer.write(b"x")
    with pytest.raises(ValueError):
        writer.commit(key)
    writer.abort()
    assert list(store.list("")) == []


def test_list_by_plain_string_prefix(store: BlobStore) -> None:
    keys = ["a/b1", "a/b2", "a/c", "ab/x", "b"]
    for key in keys:
        store.put(key, key.encode())
    assert sorted(store.list("")) == keys
    assert sorted(store.list("a/b")) == ["a/b1", "a/b2"]
    assert sorted(store.list("a/")) == ["a/b1", "a/b2", "a/c"]
    assert sorted(store.list("a")) == ["a/b1", "a/b2", "a/c", "ab/x"]
    assert list(store.list("zz/")) == []


def test_read_streams_bounded_pieces(store: BlobStore) -> None:
    data = bytes(range(256)) * 40
    store.put("big", data)
    pieces = list(store.read("big", chunk_size=1000))
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= 1000 for p in pieces)
    with open_blob(store, "big") as handle:
        assert handle.read(10) == data[:10]
        assert handle.read() == data[10:]
    with pytest.raises(NotFound):
        open_blob(store, "missing")


def test_writer_publishes_only_on_commit(store: BlobStore) -> None:
    store.put("k", b"old")
    writer = store.writer()
    writer.write(b"new ")
    writer.write(b"content")
    assert store.get("k") == b"old"
    assert sorted(store.list("")) == ["k"]
    writer.commit("k")
    assert store.get("k") == b"new content"
    writer.abort()  # after commit: nothing to undo
    assert store.get("k") == b"new content"


def test_aborted_writer_leaves_no_trace(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"never")
    writer.abort()
    assert list(store.list("")) == []


def test_unsynced_put_then_sync(store: BlobStore) -> None:
    store.put("lazy", b"x", sync=False)
    store.sync()
    assert store.get("lazy") == b"x"


def test_concurrent_puts_into_one_new_folder(store: BlobStore) -> None:
    keys = [f"fresh/{i:03}" for i in range(64)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.put(k, k.encode(), sync=False), keys))
    assert sorted(store.list("fresh/")) == keys
    assert all(store.get(k) == k.encode() for k in keys)


def test_overwrite_is_atomic_for_readers_and_listing(store: BlobStore) -> None:
    versions = [bytes([n]) * 300_000 for n in range(2)]
    store.put("hot/k", versions[0])
    stop = threading.Event()

    def overwrite() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            store.put("hot/k", versions[n % 2], sync=False)

    thread = threading.Thread(target=overwrite)
    thread.start()
    try:
        for _ in range(300):
            assert store.get("hot/k") in versions
            assert list(store.list("hot/")) == ["hot/k"]
    finally:
        stop.set()
        thread.join()


def test_read_range_returns_that_part_or_less_at_the_end(store: BlobStore) -> None:
    data = bytes(range(256)) * 40
    store.put("ranged", data)
    for offset, length in ((0, 10), (100, 1000), (len(data) - 5, 5), (len(data) - 5, 50), (len(data), 4)):
        assert read_range(store, "ranged", offset, length) == data[offset : offset + length]
    with pytest.raises(NotFound):
        read_range(store, "absent", 0, 1)


def test_read_range_streams_where_the_store_cannot_seek(store: BlobStore) -> None:
    class Streaming:
        """Only what every BlobStore has: ``read_range`` falls back to streaming."""

        def read(self, key: str, chunk_size: int = 7) -> Iterator[bytes]:
            return store.read(key, 7)

    data = bytes(range(200))
    store.put("ranged", data)
    assert read_range(Streaming(), "ranged", 13, 50) == data[13:63]  # type: ignore[arg-type]
