"""Records (audit, job console, data management) compared row by row, as a clone's preview and its
change report compare them (content.diff over record_keys): the comparison of two sets of records
counts what they share as unchanged and only the difference as created or removed, whatever the
rows' order, however many identical rows there are, and records are never "replaced"."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.content.component_tables import COMPONENT_TABLES
from envclone.content.diff import compare, index_rows
from envclone.domain.components import Component

PART = COMPONENT_TABLES[Component.JOB_CONSOLE][0]
FAST = settings(max_examples=200, deadline=None)

# Few distinct values, so that equal rows (and rows differing in one field only) are common.
records = st.fixed_dictionaries(
    {
        "ts": st.sampled_from([dt.datetime(2026, 1, 1, 10, 0, 0, us) for us in (0, 1, 500_000)]),
        "actor": st.sampled_from(["alice", "bob"]),
        "action": st.sampled_from(["run", "stop"]),
        "subject": st.sampled_from(["job-1", "job-2", "日本語"]),
        "status": st.sampled_from(["", "ok", "failed"]),
        "details": st.sampled_from([{}, {"n": 1}, {"n": 1, "m": [1, 2]}, {"m": [1, 2], "n": 1}]),
    }
)
record_lists = st.lists(records, max_size=40)


def index(rows: list[dict[str, Any]]) -> dict[str, str]:
    return index_rows(PART, rows)


def frozen(row: dict[str, Any]) -> tuple[Any, ...]:
    # {"n": 1, "m": [...]} and {"m": [...], "n": 1} are the same content
    return tuple((k, repr(sorted(v.items())) if isinstance(v, dict) else v) for k, v in sorted(row.items()))


def shared(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> int:
    return sum((Counter(map(frozen, a)) & Counter(map(frozen, b))).values())


@FAST
@given(record_lists, record_lists)
def test_the_comparison_is_the_multiset_difference(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    change = compare(index(old), index(new))
    common = shared(old, new)
    assert (change["before"], change["after"]) == (len(old), len(new))
    assert change["unchanged"] == common
    assert change["created"] == len(new) - common and change["removed"] == len(old) - common
    assert change["replaced"] == 0
    assert [len(change["objects"][k]) for k in ("created", "replaced", "removed")] == [
        change["created"],
        0,
        change["removed"],
    ]


@FAST
@given(record_lists, st.randoms(use_true_random=False))
def test_the_same_records_in_any_order_are_unchanged(rows: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert index(shuffled) == index(rows)
    change = compare(index(rows), index(shuffled))
    assert (change["created"], change["replaced"], change["removed"], change["unchanged"]) == (0, 0, 0, len(rows))


@FAST
@given(record_lists, record_lists)
def test_appended_records_are_the_only_ones_created(rows: list[dict[str, Any]], added: list[dict[str, Any]]) -> None:
    change = compare(index(rows), index(rows + added))
    assert (change["created"], change["removed"], change["unchanged"]) == (len(added), 0, len(rows))


@FAST
@given(record_lists, record_lists)
def test_swapping_the_sides_swaps_created_and_removed(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    there, back = compare(index(a), index(b)), compare(index(b), index(a))
    assert (there["created"], there["removed"], there["unchanged"]) == (
        back["removed"],
        back["created"],
        back["unchanged"],
    )
    assert set(there["objects"]["created"]) == set(back["objects"]["removed"])


@FAST
@given(record_lists, record_lists, st.integers(min_value=0, max_value=50))
def test_a_cut_list_says_how_much_it_left_out(a: list[dict[str, Any]], b: list[dict[str, Any]], limit: int) -> None:
    full, cut = compare(index(a), index(b)), compare(index(a), index(b), list_limit=limit)
    assert {k: v for k, v in cut.items() if k not in ("objects", "truncated")} == {
        k: v for k, v in full.items() if k != "objects"
    }
    for what in ("created", "replaced", "removed"):
        listed = cut["objects"][what]
        assert listed == full["objects"][what][:limit]
        assert len(listed) + cut["truncated"][what] == full[what]
