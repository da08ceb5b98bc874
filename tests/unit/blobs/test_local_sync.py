"""The local store's sync calls os.sync() only when this process changed a blob since the last
one: an unchanged clone's have/want or a verify no longer flush the whole machine's writes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from envclone.blobs.local import LocalBlobStore


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(os, "sync", lambda: calls.append(1))
    return calls


def test_a_sync_with_nothing_written_since_the_last_one_does_not_flush(tmp_path: Path, syncs: list[int]) -> None:
    store = LocalBlobStore(tmp_path)
    store.sync()  # whatever came before in this process
    before = len(syncs)
    store.sync()
    assert len(syncs) == before
    store.put("a/b", b"x", sync=False)
    store.sync()
    assert len(syncs) == before + 1
    store.sync()
    assert len(syncs) == before + 1


@pytest.mark.parametrize("change", ["writer", "delete"])
def test_every_kind_of_change_makes_the_next_sync_flush(tmp_path: Path, syncs: list[int], change: str) -> None:
    store, other = LocalBlobStore(tmp_path / "one"), LocalBlobStore(tmp_path / "two")
    store.sync()
    before = len(syncs)
    if change == "writer":
        writer = other.writer()
        writer.write(b"data")
        writer.commit("k")
    else:
        other.put("k", b"data")
        store.sync()
        before = len(syncs)
        other.delete("k")
    store.sync()  # os.sync() covers every store: a write through another one counts
    assert len(syncs) == before + 1


def test_a_sync_waits_for_the_flush_in_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("k", b"data", sync=False)
    entered, release, order = threading.Event(), threading.Event(), []

    def slow_sync() -> None:
        entered.set()
        assert release.wait(10)
        order.append("os.sync done")

    monkeypatch.setattr(os, "sync", slow_sync)
    first = threading.Thread(target=store.sync)
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=lambda: (store.sync(), order.append("second returned")))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # it does not return while the flush that covers its write runs
    release.set()
    first.join(10)
    second.join(10)
    assert order == ["os.sync done", "second returned"]
