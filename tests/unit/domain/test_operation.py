"""The operation model: step results round-trip in envclone's words, and progress is rendered from
the one model (domain.progress) the same for every dialect."""

from __future__ import annotations

import datetime as dt

from envclone.domain.operation import Operation, OperationStatus, Progress, Step, StepResult

T0 = dt.datetime(2026, 12, 1, 10, 0, 0)


def test_steps_round_trip_in_envclone_words() -> None:
    for result in StepResult:
        step = Step("A step", result, details="why")
        assert step.to_json()["result"] == result.value
        assert Step.from_json(step.to_json()) == step
    assert {r.value for r in StepResult} == {"pending", "in_progress", "success", "failed", "not_applicable"}


def _op(status: OperationStatus, percent: float, *, ended: dt.datetime | None = None) -> Operation:
    progress = Progress(1000, 3000, percent=percent, phase="copy", phase_started=T0)
    progress.bytes_phase, progress.bytes_started = "copy", T0
    progress.eta = T0 + dt.timedelta(seconds=20)
    return Operation("ID", "work", status, {}, progress=progress, started=T0, ended=ended)


def test_a_running_operation_shows_its_percent_rate_and_time_remaining() -> None:
    view = _op(OperationStatus.RUNNING, 33.33).progress_view(T0 + dt.timedelta(seconds=10))
    assert (view.percent, view.phase, view.bytes_per_second, view.seconds_remaining) == (33.3, "copy", 100.0, 10)


def test_only_a_succeeded_operation_shows_100() -> None:
    end = T0 + dt.timedelta(seconds=4)
    assert _op(OperationStatus.SUCCEEDED, 20.0, ended=end).progress_view(end).percent == 100.0
    for status in (OperationStatus.RUNNING, OperationStatus.FAILED, OperationStatus.CANCELLED):
        assert _op(status, 100.0, ended=end).progress_view(end).percent == 99.9
    assert _op(OperationStatus.FAILED, 42.0, ended=end).progress_view(end).percent == 42.0  # where it stopped


def test_no_time_remaining_once_finished_or_once_the_estimate_has_passed() -> None:
    end = T0 + dt.timedelta(seconds=4)
    assert _op(OperationStatus.SUCCEEDED, 100.0, ended=end).progress_view(end).seconds_remaining is None
    assert _op(OperationStatus.FAILED, 50.0, ended=end).progress_view(end).seconds_remaining is None
    late = _op(OperationStatus.RUNNING, 50.0).progress_view(T0 + dt.timedelta(seconds=25))
    assert late.seconds_remaining is None  # never 0 nor negative while it still runs
    rate = _op(OperationStatus.SUCCEEDED, 100.0, ended=end).progress_view(T0 + dt.timedelta(hours=1))
    assert rate.bytes_per_second == 250.0  # measured up to the end, not now


def test_progress_of_records_written_before_percent_was_stored_still_reads() -> None:
    old = Progress.from_json({"bytes_done": 5, "bytes_total": 10, "items_done": 0, "items_total": 0})
    assert (old.percent, old.phase, old.eta) == (0.0, None, None)
    assert Progress.from_json(_op(OperationStatus.RUNNING, 12.5).progress.to_json()) == _op(
        OperationStatus.RUNNING, 12.5
    ).progress
