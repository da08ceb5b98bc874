"""The small-blob bundle round-trips through any chunking of its stream and refuses truncation."""

from __future__ import annotations

from pathlib import Path

import pytest
from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.blobs import LocalBlobStore
from envclone.content.bundle import buckets, frame_size, is_bundle, read_bundle, unpack_bundle, write_bundle


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


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), victim=st.integers(0, 399), digits=st.integers(0, 3))
def test_a_bucket_is_renamed_exactly_when_its_members_change(n: int, victim: int, digits: int) -> None:
    items = _hashes(n)
    before = dict(buckets(items, digits))
    assert sorted(m for members in before.values() for m in members) == sorted(items)
    assert all(is_bundle(name) for name in before)
    changed = list(items)
    changed[victim % n] = (blake3(b"edited").hexdigest(), 7)
    after = dict(buckets(reversed(changed), digits))  # order of the input does not matter
    renamed = set(before) ^ set(after)
    # the bucket that lost the old file and the one that gained the new one, nothing else
    assert 1 <= len(set(before) - set(after)) <= 2 and len(renamed) <= 4
    assert all(before[name] == after[name] for name in set(before) & set(after))


def test_by_default_there_is_one_bundle() -> None:
    assert len(buckets(_hashes(300))) == 1


def test_the_single_bundle_of_earlier_archives_is_still_a_bundle() -> None:
    assert is_bundle("blobs.bundle") and not is_bundle("blobs.bundler") and not is_bundle("blobs/abc")
