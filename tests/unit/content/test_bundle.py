"""The small-blob bundle round-trips through any chunking of its stream and refuses truncation; small
files are grouped into bundles of about GROUP_BYTES (stability: tests/property/test_bundle_groups.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.blobs import LocalBlobStore
from envclone.content.bundle import GROUP_BYTES, frame_size, groups, is_bundle, read_bundle, unpack_bundle, write_bundle


def _store(tmp: Path, contents: list[bytes]) -> tuple[LocalBlobStore, list[tuple[str, int]]]:
    store = LocalBlobStore(tmp)
    items = []
    for data in contents:
        digest = blake3(data).hexdigest()
        store.put(f"files/{digest}", data)
        items.append((digest, len(data)))
    return store, items


@settings(max_examples=25, deadline=None)
@given(contents=st.lists(st.binary(max_size=3000), max_size=20, unique=True), cut=st.integers(1, 997))
def test_round_trip_through_any_chunking(
    tmp_path_factory: pytest.TempPathFactory, contents: list[bytes], cut: int
) -> None:
    source, items = _store(tmp_path_factory.mktemp("src"), contents)
    stream = b"".join(write_bundle(source, items))
    assert len(stream) == frame_size(size for _, size in items)
    pieces = [stream[i : i + cut] for i in range(0, len(stream), cut)]
    assert dict(read_bundle(pieces)) == {blake3(d).hexdigest(): d for d in contents}
    target = LocalBlobStore(tmp_path_factory.mktemp("dst"))
    assert unpack_bundle(target, pieces) == len(items)
    for digest, _size in items:
        assert blake3(target.get(f"files/{digest}")).hexdigest() == digest
    assert unpack_bundle(target, pieces) == 0  # nothing new the second time


def test_truncated_bundle_is_refused(tmp_path: Path) -> None:
    store, items = _store(tmp_path, [b"alpha" * 100, b"beta" * 50])
    stream = b"".join(write_bundle(store, items))
    with pytest.raises(ValueError, match="truncated"):
        list(read_bundle([stream[:-3]]))


def _hashes(n: int, salt: str = "") -> list[tuple[str, int]]:
    return [(blake3(f"{salt}{i}".encode()).hexdigest(), 100 + i) for i in range(n)]


def test_groups_hold_about_group_bytes_of_small_files_and_large_ones_alone() -> None:
    items = [(h, 1000) for h, _ in _hashes(5000)] + [(blake3(b"large").hexdigest(), 300_000)]
    grouped = groups(items)
    sizes = [frame_size(s for _, s in members) for _, members in grouped]
    # 5000 frames of 1040 bytes (+ the 256-byte floor) at one end per GROUP_BYTES: ~400 groups
    assert 300 <= len(grouped) <= 500
    assert [members for _, members in grouped if any(s == 300_000 for _, s in members)] == [
        [(blake3(b"large").hexdigest(), 300_000)]
    ]
    assert max(sizes[:-1] or [0]) < 40 * GROUP_BYTES


def test_old_single_bundle_names_are_still_bundles() -> None:
    assert is_bundle("blobs.bundle/0123abcd") and is_bundle("blobs.bundle/0a/0123abcd")


def test_the_single_bundle_of_earlier_archives_is_still_a_bundle() -> None:
    assert is_bundle("blobs.bundle") and not is_bundle("blobs.bundler") and not is_bundle("blobs/abc")
