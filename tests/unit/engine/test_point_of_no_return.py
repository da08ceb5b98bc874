"""An operation's point of no return, on a real SQLite database: a cancel recorded before it stops
the operation there; one asked for after it is refused (NotCancellable, 409) and the operation
completes; the two records exclude each other whichever comes first; and a cancel passed on to a
part that runs elsewhere is that part's to refuse."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from envclone.domain.operation import Operation, OperationStatus, Step
from envclone.engine import Engine, OperationKind, Recorder, Registry
from envclone.errors import NotCancellable
from envclone.store import operations as repo
from envclone.store import tables
from envclone.store.database import Database

STEPS = ("Replacing",)


class Gate:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def hold(self) -> None:
        self.entered.set()
        assert self.release.wait(10)


def _point_then_wait(context: dict[str, Any], op: Operation, rec: Recorder) -> None:
    with rec.step("Replacing"):
        rec.pass_point_of_no_return()
        context["gate"].hold()


def _wait_then_point(context: dict[str, Any], op: Operation, rec: Recorder) -> None:
    with rec.step("Replacing"):
        context["gate"].hold()  # no check meanwhile: the point itself must see the cancel
        rec.pass_point_of_no_return()
        context["replaced"] = True


def _forwarding(context: dict[str, Any], op: Operation, rec: Recorder) -> None:
    with rec.step("Replacing"), rec.cancel_forwarded_to(context["forward"]):
        rec.check_cancelled()
        gate: Gate = context["gate"]
        gate.entered.set()
        while not gate.release.wait(0.02):
            rec.check_cancelled()


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.migrate()
    return database


def make_engine(db: Database, context: dict[str, Any]) -> Engine:
    registry = Registry()
    registry.register(OperationKind("point_then_wait", _point_then_wait, STEPS, exclusive=True))
    registry.register(OperationKind("wait_then_point", _wait_then_point, STEPS, exclusive=True))
    registry.register(OperationKind("forwarding", _forwarding, STEPS))
    return Engine(db, registry, context, runner_id="r1", workers=2)


def stored(db: Database, op_id: str) -> Any:
    with db.read() as conn:
        t = tables.operations
        return conn.execute(sa.select(t.c.cancel_requested, t.c.point_of_no_return).where(t.c.id == op_id)).one()


def test_a_cancel_past_the_point_is_refused_and_the_operation_completes(db: Database) -> None:
    gate = Gate()
    engine = make_engine(db, {"gate": gate})
    op = engine.submit("point_then_wait", {}, created_by="admin")
    assert gate.entered.wait(10)
    with pytest.raises(NotCancellable, match="has passed its point of no return") as refused:
        engine.cancel(op.id)
    assert refused.value.status == 409 and refused.value.code == "not_cancellable"
    passed_at = engine.get(op.id).point_of_no_return
    assert passed_at is not None and refused.value.details == {"point_of_no_return": passed_at.isoformat()}
    gate.release.set()
    assert engine.wait(op.id, timeout=10).status is OperationStatus.SUCCEEDED
    cancel_requested, passed = stored(db, op.id)
    assert cancel_requested is False and passed is not None
    with pytest.raises(NotCancellable, match="already ended"):
        engine.cancel(op.id)


def test_a_cancel_before_the_point_stops_the_operation_there(db: Database) -> None:
    gate = Gate()
    context: dict[str, Any] = {"gate": gate}
    engine = make_engine(db, context)
    op = engine.submit("wait_then_point", {}, created_by="admin")
    assert gate.entered.wait(10)
    assert engine.cancel(op.id).status is OperationStatus.RUNNING
    gate.release.set()
    done = engine.wait(op.id, timeout=10)
    assert done.status is OperationStatus.CANCELLED and "replaced" not in context
    cancel_requested, passed = stored(db, op.id)
    assert cancel_requested is True and passed is None


def test_the_cancel_and_the_point_exclude_each_other(db: Database) -> None:
    with db.begin() as conn:
        first = repo.create(conn, "k", {}, [Step("s")], "admin", exclusive=False)
        second = repo.create(conn, "k", {}, [Step("s")], "admin", exclusive=False)
        assert repo.claim(conn, first.id, "r") and repo.claim(conn, second.id, "r")
    with db.begin() as conn:
        assert repo.request_cancel(conn, first.id)
        assert repo.pass_point_of_no_return(conn, first.id) is None
        assert repo.pass_point_of_no_return(conn, second.id) is not None
        assert not repo.request_cancel(conn, second.id)


def test_a_forwarded_cancel_is_the_other_parts_to_refuse(db: Database) -> None:
    answers: list[str] = []

    def forward() -> None:
        answers.append("asked")
        if len(answers) == 1:
            raise NotCancellable("the clone can no longer be cancelled: on the target, it has passed its point")

    gate = Gate()
    engine = make_engine(db, {"gate": gate, "forward": forward})
    op = engine.submit("forwarding", {}, created_by="admin")
    assert gate.entered.wait(10)
    with pytest.raises(NotCancellable, match="on the target"):
        engine.cancel(op.id)
    assert stored(db, op.id)[0] is False, "a refused cancel must not be recorded"
    engine.cancel(op.id)  # the other part accepts this time
    done = engine.wait(op.id, timeout=10)
    assert done.status is OperationStatus.CANCELLED and answers == ["asked", "asked"]
