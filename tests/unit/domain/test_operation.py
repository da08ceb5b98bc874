"""The operation model: step results round-trip in envclone's words, and throughput (rate and
time remaining) is computed once here for every dialect."""

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


def _op(status: OperationStatus, *, started: dt.datetime | None, ended: dt.datetime | None = None) -> Operation:
    progress = Progress(bytes_done=1000, bytes_total=3000)
    return Operation("ID", "work", status, {}, progress=progress, started=started, ended=ended)


def test_throughput_of_a_running_operation() -> None:
    speed = _op(OperationStatus.RUNNING, started=T0).throughput(T0 + dt.timedelta(seconds=10))
    assert speed is not None
    assert speed.bytes_per_second == 100.0
    assert speed.seconds_remaining == 20.0


def test_throughput_before_start_after_end_and_before_any_byte() -> None:
    assert _op(OperationStatus.QUEUED, started=None).throughput(T0) is None
    done = _op(OperationStatus.SUCCEEDED, started=T0, ended=T0 + dt.timedelta(seconds=4))
    speed = done.throughput(T0 + dt.timedelta(hours=1))  # measured up to the end, not now
    assert speed is not None and speed.bytes_per_second == 250.0 and speed.seconds_remaining is None
    just_started = _op(OperationStatus.RUNNING, started=T0).throughput(T0)
    assert just_started is not None and just_started.bytes_per_second == 0.0
    assert just_started.seconds_remaining is None
