"""The engine on a real SQLite database: runs, failures, cancel, one-exclusive-at-a-time and
recovery of operations a previous run left open."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from envclone.domain.operation import Operation, OperationStatus, Step, StepResult
from envclone.engine import Engine, OperationKind, Recorder, Registry
from envclone.errors import Conflict, NotFound
from envclone.store import operations as repo
from envclone.store import tables
from envclone.store.database import Database

STEPS = ("First step", "Second step", "Optional step")


class Gate:
    """Lets a test hold a handler in the middle of its work."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


def _work(context: dict[str, Any], op: Operation, rec: Recorder) -> None:
    with rec.step("First step"):
        rec.plan(bytes_total=100)
        rec.advance(nbytes=60, items=1)
    gate: Gate | None = context.get("gate")
    with rec.step("Second step"):
        if gate:
            gate.entered.set()
            while not gate.release.wait(0.02):
                rec.check_cancelled()
        if op.params.get("fail"):
            raise NotFound("backup nightly not found")
        rec.advance(nbytes=40, items=1)
    rec.not_applicable("Optional step")
    rec.set_result(answer=42)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.migrate()
    return database


def make_engine(db: Database, context: dict[str, Any], *, resumable: bool = False, runner: str = "r1") -> Engine:
    registry = Registry()
    registry.register(OperationKind("work", _work, STEPS, exclusive=True, resumable=resumable))
    registry.register(OperationKind("uncancellable", _work, STEPS, cancellable=False))
    return Engine(db, registry, context, runner_id=runner, workers=2)


def test_operation_runs_to_success_with_steps_progress_and_result(db: Database) -> None:
    engine = make_engine(db, {})
    op = engine.submit("work", {"x": 1}, created_by="admin")
    done = engine.wait(op.id, timeout=10)
    assert done.status is OperationStatus.SUCCEEDED
    assert [s.result for s in done.steps] == [StepResult.SUCCESS, StepResult.SUCCESS, StepResult.NOT_APPLICABLE]
    # Bytes are those of the last phase that counted some (each step is a phase by default).
    assert (done.progress.bytes_done, done.progress.percent, done.progress.eta) == (40, 100.0, None)
    assert done.result["answer"] == 42 and done.ended is not None and done.seq > 0
    with db.read() as conn:
        assert conn.execute(sa.select(tables.operations.c.lock_key)).scalar() is None


def test_failure_is_recorded_with_code_message_and_failed_step(db: Database) -> None:
    engine = make_engine(db, {})
    done = engine.wait(engine.submit("work", {"fail": True}, created_by="admin").id, timeout=10)
    assert done.status is OperationStatus.FAILED
    assert (done.error_code, done.error_message) == ("not_found", "backup nightly not found")
    assert done.step("Second step").result is StepResult.FAILED
    assert done.step("Second step").details == "backup nightly not found"
    assert done.step("Optional step").result is StepResult.PENDING


def test_cancel_stops_a_running_operation(db: Database) -> None:
    gate = Gate()
    engine = make_engine(db, {"gate": gate})
    op = engine.submit("work", {}, created_by="admin")
    assert gate.entered.wait(10)
    engine.cancel(op.id)
    done = engine.wait(op.id, timeout=10)
    assert done.status is OperationStatus.CANCELLED
    assert done.step("Second step").result is StepResult.FAILED
    with pytest.raises(Conflict):
        engine.cancel(op.id)


def test_uncancellable_kind_refuses_cancel(db: Database) -> None:
    gate = Gate()
    engine = make_engine(db, {"gate": gate})
    op = engine.submit("uncancellable", {}, created_by="admin")
    assert gate.entered.wait(10)
    with pytest.raises(Conflict, match="cannot be cancelled"):
        engine.cancel(op.id)
    gate.release.set()
    assert engine.wait(op.id, timeout=10).status is OperationStatus.SUCCEEDED


def test_only_one_exclusive_operation_at_a_time(db: Database) -> None:
    gate = Gate()
    engine = make_engine(db, {"gate": gate})
    first = engine.submit("work", {}, created_by="admin")
    assert gate.entered.wait(10)
    with pytest.raises(Conflict, match=first.id):
        engine.submit("work", {}, created_by="admin")
    gate.release.set()
    assert engine.wait(first.id, timeout=10).status is OperationStatus.SUCCEEDED
    second = engine.submit("work", {}, created_by="admin")
    assert engine.wait(second.id, timeout=10).status is OperationStatus.SUCCEEDED


def _leave_running(db: Database, runner: str) -> str:
    """An operation as a killed server leaves it: running, a step in progress, the lock held."""
    with db.begin() as conn:
        op = repo.create(conn, "work", {}, [Step(k) for k in STEPS], "admin", exclusive=True)
        assert repo.claim(conn, op.id, runner)
        op.steps[0].result = StepResult.IN_PROGRESS
        repo.save_progress(conn, op)
    return op.id




def test_recovery_fails_an_interrupted_operation_and_frees_the_lock(db: Database) -> None:
    op_id = _leave_running(db, "r1")
    engine = make_engine(db, {}, runner="r1")
    assert engine.recover() == []
    op = engine.get(op_id)
    assert op.status is OperationStatus.FAILED and op.error_code == "interrupted"
    assert op.step("First step").result is StepResult.FAILED
    again = engine.submit("work", {}, created_by="admin")
    assert engine.wait(again.id, timeout=10).status is OperationStatus.SUCCEEDED


def test_recovery_resumes_a_resumable_kind(db: Database) -> None:
    op_id = _leave_running(db, "r1")
    engine = make_engine(db, {}, resumable=True, runner="r1")
    assert engine.recover() == [op_id]
    deadline = time.monotonic() + 10
    while engine.get(op_id).status is not OperationStatus.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.get(op_id).status is OperationStatus.SUCCEEDED


def test_recovery_leaves_other_live_runners_alone(db: Database) -> None:
    op_id = _leave_running(db, "other-node")
    engine = make_engine(db, {}, runner="r1")
    engine.recover()
    assert engine.get(op_id).status is OperationStatus.RUNNING


def test_a_listing_shows_running_operations_as_the_engine_sees_them(db: Database) -> None:
    gate = Gate()
    engine = make_engine(db, {"gate": gate})
    op = engine.submit("work", {}, created_by="admin")
    assert gate.entered.wait(10)
    with db.read() as conn:
        stored = repo.load(conn, op.id)
    live = engine.live(stored)
    assert live.progress.percent == engine.get(op.id).progress.percent > 0  # the first step is done
    assert live.step("Second step").result is StepResult.IN_PROGRESS
    gate.release.set()
    done = engine.wait(op.id, timeout=10)
    assert engine.live(done) is done and done.progress.percent == 100.0
