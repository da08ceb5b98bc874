"""The one progress model: weighted phases, finished and skipped ones counting as done, a percent
that only rises and reaches 100 only on success, and a time remaining that only shrinks, is never
negative and is absent rather than wrong."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.domain.progress import Phase, Progress, Tracker, step_phase, view

T0 = dt.datetime(2026, 12, 1, 10, 0, 0)
PHASES = (
    step_phase("Validate", 5),
    Phase("compose", 20, "Recreate"),
    Phase("transfer", 25, "Recreate"),
    Phase("apply", 50, "Recreate"),
)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def tracker() -> Tracker:
    return Tracker(PHASES, Progress(), T0)


def test_percent_is_weighted_over_the_phases_and_the_current_fraction() -> None:
    t = tracker()
    t.start_step("Validate", at(0))
    assert t.progress.phase == "Validate" and t.progress.percent == 0.0
    t.finish_step("Validate", at(1))
    assert t.progress.percent == 5.0
    t.start_step("Recreate", at(1))  # enters the step's first phase
    assert t.progress.phase == "compose"
    t.plan(bytes_total=1000, items_total=None, now=at(2))
    t.advance(nbytes=500, items=0, now=at(3))
    assert t.progress.percent == 15.0 and (t.progress.bytes_done, t.progress.bytes_total) == (500, 1000)
    t.enter("apply", at(4))  # the transfer was skipped: it counts as done
    assert t.progress.percent == 50.0
    t.measured(0.5, at(5))  # another party (a clone's target) measures this phase
    assert t.progress.percent == 75.0
    # The bytes shown are those of the last phase that counted some, and say so.
    assert (t.progress.bytes_done, t.progress.bytes_total, t.progress.bytes_phase) == (500, 1000, "compose")
    shown = view(t.progress, succeeded=False, finished=False, ended=None, now=at(5))
    assert shown.bytes_per_second is None  # not the rate of the phase that runs now


def test_a_finished_or_not_applicable_step_counts_its_phases_as_done() -> None:
    t = tracker()
    t.finish_step("Validate", at(0))  # not applicable: never started
    t.finish_step("Recreate", at(0))
    assert t.progress.percent == 99.9  # everything done, but the operation has not ended yet


def test_percent_never_goes_down_and_is_100_only_on_success() -> None:
    t = tracker()
    t.enter("compose", at(0))
    t.plan(bytes_total=100, items_total=None, now=at(0))
    t.advance(nbytes=80, items=0, now=at(1))
    before = t.progress.percent
    t.plan(bytes_total=1000, items_total=None, now=at(2))  # a better estimate of the total
    t.measured(0.0, at(2))
    assert t.progress.percent == before
    t.enter("apply", at(3))
    t.measured(1.0, at(4))
    assert t.progress.percent == 99.9
    t.succeeded()
    assert t.progress.percent == 100.0 and t.progress.eta is None


def test_an_estimated_total_is_never_shown_below_what_was_done() -> None:
    t = tracker()
    t.enter("compose", at(0))
    t.plan(bytes_total=100, items_total=None, now=at(0))
    t.advance(nbytes=150, items=0, now=at(1))
    assert (t.progress.bytes_done, t.progress.bytes_total) == (150, 150)


def test_no_estimate_before_enough_has_moved() -> None:
    t = tracker()
    t.enter("compose", at(0))
    t.plan(bytes_total=1000, items_total=None, now=at(0))
    t.advance(nbytes=5, items=0, now=at(5))  # 0.1 %: too little to tell
    assert t.progress.eta is None
    t.advance(nbytes=495, items=0, now=at(1.5))  # much, but too soon after the start
    assert t.progress.eta is None


def remaining(progress: Progress, seconds: float) -> int | None:
    return view(progress, succeeded=False, finished=False, ended=None, now=at(seconds)).seconds_remaining


def test_the_estimate_only_moves_the_end_earlier_and_runs_out_rather_than_going_negative() -> None:
    t = Tracker((Phase("copy", 1),), Progress(), T0)
    t.enter("copy", at(0))
    t.plan(bytes_total=1000, items_total=None, now=at(0))
    t.advance(nbytes=100, items=0, now=at(10))  # 10 % in 10 s: 90 s to go
    assert t.progress.eta == at(100)
    t.advance(nbytes=50, items=0, now=at(30))  # slower now (15 % in 30 s says 170 s): not moved later
    assert t.progress.eta == at(100)
    t.advance(nbytes=450, items=0, now=at(40))  # faster (60 % in 40 s says 26.7 s): earlier
    assert t.progress.eta == at(40 + 40 * 40 / 60)
    assert [remaining(t.progress, s) for s in (40, 66, 66.7, 67, 150)] == [27, 1, None, None, None]
    t.advance(nbytes=0, items=0, now=at(150))
    assert t.progress.eta == at(40 + 40 * 40 / 60)  # it stays absent: a new, later end would go back up


def test_skipped_phases_do_not_make_the_pace_look_faster() -> None:
    t = tracker()
    t.start_step("Validate", at(0))
    t.finish_step("Validate", at(0.1))  # 5 % at once
    t.enter("apply", at(0.1))  # compose and transfer skipped: 45 % more at once
    t.measured(0.1, at(10))  # 5 % of real work in 10 s: 45 % to go takes 90 s
    assert t.progress.percent == 55.0
    assert t.progress.eta == at(100)


def test_a_phase_the_kind_does_not_declare_is_ignored() -> None:
    t = tracker()
    t.enter("compose", at(0))
    t.enter("no such phase", at(1))
    assert t.progress.phase == "compose"


def test_a_kind_without_phases_moves_only_at_success() -> None:
    t = Tracker((), Progress(), T0)
    t.advance(nbytes=10, items=0, now=at(1))
    assert t.progress.percent == 0.0
    t.succeeded()
    assert t.progress.percent == 100.0


EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("enter"), st.sampled_from([p.key for p in PHASES])),
        st.tuples(st.just("plan"), st.integers(0, 10_000)),
        st.tuples(st.just("advance"), st.integers(0, 5_000)),
        st.tuples(st.just("measured"), st.floats(-1, 2) | st.just(float("nan"))),
        st.tuples(st.just("finish"), st.sampled_from(["Validate", "Recreate"])),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(EVENTS, st.lists(st.floats(0, 30), min_size=40, max_size=40))
def test_whatever_happens_percent_rises_and_time_remaining_shrinks(
    events: list[tuple[str, object]], gaps: list[float]
) -> None:
    t = tracker()
    now, percents, remaining = T0, [], []
    for (event, value), gap in zip(events, gaps, strict=False):
        now += dt.timedelta(seconds=gap)
        if event == "enter":
            t.enter(str(value), now)
        elif event == "plan":
            t.plan(bytes_total=int(value), items_total=None, now=now)  # type: ignore[call-overload]
        elif event == "advance":
            t.advance(nbytes=int(value), items=0, now=now)  # type: ignore[call-overload]
        elif event == "measured":
            t.measured(float(value), now)  # type: ignore[arg-type]
        else:
            t.finish_step(str(value), now)
        shown = view(t.progress, succeeded=False, finished=False, ended=None, now=now)
        percents.append(shown.percent)
        if shown.seconds_remaining is not None:
            remaining.append(shown.seconds_remaining)
    assert percents == sorted(percents) and all(0 <= p <= 99.9 for p in percents)
    assert remaining == sorted(remaining, reverse=True) and all(r > 0 for r in remaining)
