"""Hypothesis properties of how small files are grouped into bundles (content/bundle.py): the groups
partition the files whatever the input order, and a change to one file (edited, added or removed)
renames a bounded number of groups, so a backup re-reads and re-stores only those."""

from __future__ import annotations

from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.content.bundle import GROUP_BYTES, groups, is_bundle

FAST = settings(max_examples=60, deadline=None)
sizes = st.one_of(st.integers(0, 4000), st.integers(0, 3 * GROUP_BYTES))
files = st.lists(st.tuples(st.binary(min_size=1, max_size=8), sizes), max_size=300, unique_by=lambda t: t[0])


def items(spec: list[tuple[bytes, int]]) -> list[tuple[str, int]]:
    return [(blake3(seed).hexdigest(), size) for seed, size in spec]


@FAST
@given(spec=files, data=st.data())
def test_groups_partition_the_files_whatever_the_order(spec: list[tuple[bytes, int]], data: st.DataObject) -> None:
    listed = items(spec)
    grouped = groups(listed)
    members = [m for _, ms in grouped for m in ms]
    assert sorted(members) == sorted(listed) and len(members) == len(set(members))
    names = [name for name, _ in grouped]
    assert len(set(names)) == len(names) and all(is_bundle(n) for n in names)
    assert all(ms for _, ms in grouped)
    shuffled = data.draw(st.permutations(listed))
    assert groups(shuffled + listed[:3]) == grouped  # order and repeats do not matter


def _changed(before: list[tuple[str, list[tuple[str, int]]]], after: list[tuple[str, list[tuple[str, int]]]]) -> int:
    old = dict(before)
    new = dict(after)
    assert all(old[n] == new[n] for n in old.keys() & new.keys())  # same name, same members
    return len(new.keys() - old.keys())


@FAST
@given(spec=files, victim=st.integers(0, 10**6), size=sizes, seed=st.binary(min_size=9, max_size=12))
def test_one_changed_file_renames_a_bounded_number_of_groups(
    spec: list[tuple[bytes, int]], victim: int, size: int, seed: bytes
) -> None:
    listed = items(spec)
    before = groups(listed)
    added = (blake3(seed).hexdigest(), size)
    # Added: the group it joins changes, or splits in two, or three round a file that stands alone.
    assert _changed(before, groups([*listed, added])) <= 3
    if listed:
        gone = listed[victim % len(listed)]
        rest = [i for i in listed if i != gone]
        # Removed: its group merges with the next one (and the one before, if it stood alone).
        assert _changed(before, groups(rest)) <= 1
        # Edited (the old content leaves, the new arrives): both of the above.
        assert _changed(before, groups([*rest, added])) <= 4
