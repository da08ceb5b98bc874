"""The final status is decided by the same commit as the content (issue 10, point 1): an operation
whose change committed is reported succeeded, whether what follows the commit fails or the server
stops before writing the final status; one that never reached its commit fails as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envclone.domain.operation import Operation, OperationStatus, Step, StepResult
from envclone.engine import Engine, OperationKind, Recorder, Registry
from envclone.errors import EnvcloneError
from envclone.store import operations as repo
from envclone.store.database import Database

STEPS = ("Replacing", "Reporting")


class CleanupFailed(EnvcloneError, code="cleanup_failed"):
    """The clean-up after the change failed."""


def _commit_then_fail(context: dict[str, Any], op: Operation, rec: Recorder) -> None:
    db: Database = context["db"]
    with rec.step("Replacing"), db.begin() as conn:
        rec.mark_committed(conn)
        if op.params.get("rollback"):
            raise CleanupFailed("the transaction failed before its commit")
    with rec.step("Reporting"):
        raise CleanupFailed("the clean-up after the change failed")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.migrate()
    return database


def make_engine(db: Database, *, resumable: bool = False) -> Engine:
    registry = Registry()
    registry.register(OperationKind("change", _commit_then_fail, STEPS, exclusive=True, resumable=resumable))
    return Engine(db, registry, {"db": db}, runner_id="r1", workers=1)


def test_a_failure_after_the_commit_does_not_make_a_made_change_failed(db: Database) -> None:
    engine = make_engine(db)
    op = engine.wait(engine.submit("change", {}, created_by="admin").id, timeout=10)
    assert op.status is OperationStatus.SUCCEEDED and op.error_code is None
    assert op.step("Replacing").result is StepResult.SUCCESS
    with db.read() as conn:
        assert repo.committed_steps(conn, op.id) is None  # the marker goes with the final status


def test_a_transaction_rolled_back_leaves_no_marker_and_fails(db: Database) -> None:
    engine = make_engine(db)
    op = engine.wait(engine.submit("change", {"rollback": True}, created_by="admin").id, timeout=10)
    assert op.status is OperationStatus.FAILED and op.error_code == "cleanup_failed"


@pytest.mark.parametrize("resumable", [False, True])
def test_a_server_stopped_after_the_commit_recovers_the_operation_as_succeeded(db: Database, resumable: bool) -> None:
    with db.begin() as conn:  # as a killed server leaves it: running, its change committed
        op = repo.create(conn, "change", {}, [Step(k) for k in STEPS], "admin", exclusive=True)
        assert repo.claim(conn, op.id, "r1")
        op.steps[0].result = StepResult.IN_PROGRESS
        repo.mark_committed(conn, op)
    engine = make_engine(db, resumable=resumable)
    assert engine.recover() == []  # not run again
    done = engine.get(op.id)
    assert done.status is OperationStatus.SUCCEEDED and done.error_code is None
    assert [s.result for s in done.steps] == [StepResult.SUCCESS, StepResult.SUCCESS]
    with db.read() as conn:
        assert repo.committed_steps(conn, op.id) is None
    again = engine.submit("change", {}, created_by="admin")  # the content lock was freed
    assert engine.wait(again.id, timeout=10).status is OperationStatus.SUCCEEDED
