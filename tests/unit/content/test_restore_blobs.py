"""restore_blobs works on several entries at once: every blob of every bundle and every large blob
entry arrives with its content; a failure in one entry, or a progress callback that raises (a
cancel), stops the rest and is raised to the caller."""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from blake3 import blake3

from envclone.blobs import LocalBlobStore
from envclone.content.bundle import BUNDLE
from envclone.content.export import BLOB_PREFIX
from envclone.content.restore_blobs import restore_blobs

_FRAME = struct.Struct(">32sQ")


def _hash(data: bytes) -> str:
    return blake3(data).hexdigest()


def archive_entries(bundles: int, per_bundle: int, large: int) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(entries by name, every blob's content by hash) for bundles of small blobs and large ones."""
    entries: dict[str, bytes] = {}
    blobs: dict[str, bytes] = {}
    for b in range(bundles):
        members = sorted((_hash(d), d) for d in (f"bundle {b} file {i}".encode() * (i + 1) for i in range(per_bundle)))
        entries[f"{BUNDLE}/{b:04d}"] = b"".join(_FRAME.pack(bytes.fromhex(h), len(d)) + d for h, d in members)
        blobs.update(members)
    for n in range(large):
        data = f"large {n} ".encode() * 40_000
        entries[BLOB_PREFIX + _hash(data)] = data
        blobs[_hash(data)] = data
    return entries, blobs


def opener(entries: dict[str, bytes], fail: str | None = None) -> Callable[[str], Iterator[bytes]]:
    def open_entry(name: str) -> Iterator[bytes]:
        data = entries[name]
        for i in range(0, len(data), 4096):
            if name == fail and i + 4096 >= len(data):
                raise ValueError(f"damaged chunk in {name}")  # its last chunk: after some were read
            yield data[i : i + 4096]

    return open_entry


def test_every_blob_is_restored(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    entries, blobs = archive_entries(bundles=40, per_bundle=25, large=5)
    reported: list[int] = []
    written = restore_blobs(store, ["files.jsonl", *entries], opener(entries), reported.append, workers=3)
    assert written == len(blobs)
    assert {k.removeprefix("files/") for k in store.list("files/")} == set(blobs)
    for content_hash, data in blobs.items():
        assert store.get(f"files/{content_hash}") == data
    assert sum(reported) == sum(len(d) for d in blobs.values())
    assert threading.current_thread() is threading.main_thread()


def test_present_blobs_are_kept_and_damaged_ones_repaired(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    entries, blobs = archive_entries(bundles=4, per_bundle=10, large=2)
    restore_blobs(store, entries, opener(entries))
    damaged, large = sorted(blobs, key=lambda h: len(blobs[h]))[0], max(blobs, key=lambda h: len(blobs[h]))
    store.put(f"files/{damaged}", b"not what it was")
    store.put(f"files/{large}", b"nor this")
    assert restore_blobs(store, entries, opener(entries)) == 0  # present: not even read without repair
    assert restore_blobs(store, entries, opener(entries), repair=True) == 2
    assert store.get(f"files/{damaged}") == blobs[damaged]
    assert store.get(f"files/{large}") == blobs[large]


@pytest.mark.parametrize("failing", ["bundle", "large"])
def test_a_failing_entry_stops_the_restore(tmp_path: Path, failing: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    entries, _ = archive_entries(bundles=200, per_bundle=5, large=3)
    names = list(entries)
    bad = names[0] if failing == "bundle" else names[-1]
    with pytest.raises(ValueError, match="damaged chunk"):
        restore_blobs(store, names, opener(entries, fail=bad), workers=2)
    if failing == "bundle":
        assert len(list(store.list("files/"))) < 200 * 5  # stopped long before the end


def test_a_raising_progress_callback_stops_the_workers(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    entries, blobs = archive_entries(bundles=300, per_bundle=5, large=0)

    class Cancelled(Exception):
        pass

    def cancel(_nbytes: int) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        restore_blobs(store, entries, opener(entries), cancel, workers=2)
    assert len(list(store.list("files/"))) < len(blobs)
    assert not [t for t in threading.enumerate() if t.name.startswith("restore-blobs")]
