"""The engine with a task queue, on a real PostgreSQL database and procrastinate's real schema: a
job is enqueued in the very transaction that records the operation; several runners share the
database, each write fenced by the runner's claim; a runner that stops beating is taken over (its
operation resumed or failed with the reason) and cannot change the record afterwards."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from envclone.domain.operation import Operation, OperationStatus, StepResult
from envclone.engine import Cancelled, Engine, OperationKind, Recorder, Registry
from envclone.errors import InvalidRequest
from envclone.queue import ProcrastinateQueue, install_schema
from envclone.store import operations as repo
from envclone.store.database import Database
from tests.conftest import PgDatabases

pytestmark = pytest.mark.postgres
STALE = dt.timedelta(seconds=2)


@pytest.fixture
def db(pg_databases: PgDatabases) -> Iterator[Database]:
    database = Database(pg_databases.create())
    database.migrate()
    install_schema(database)
    yield database
    database.dispose()


class Held:
    """Holds a handler in its step until released, checking for a cancel meanwhile, unless frozen
    (a process that stopped: no check, and so no progress write, renews its heartbeat)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.frozen = threading.Event()
        self.stopped: list[str] = []

    def __call__(self, _ctx: Any, op: Operation, rec: Recorder) -> None:
        with rec.step("Working"):
            self.entered.set()
            try:
                while not self.release.wait(0.02):
                    if not self.frozen.is_set():
                        rec.check_cancelled()
            except Cancelled:
                self.stopped.append(op.id)
                raise
            rec.set_result(done=True)


def _engine(db: Database, held: Held, runner: str, queue: ProcrastinateQueue) -> Engine:
    registry = Registry()
    registry.register(OperationKind("held", held, ("Working",)))
    registry.register(OperationKind("again", held, ("Working",), resumable=True))
    return Engine(db, registry, {}, runner_id=runner, workers=0, queue=queue, stale_after=STALE)


def _jobs(db: Database) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(sa.text("SELECT args->>'op_id' FROM procrastinate_jobs WHERE status = 'todo'"))
        return [str(r[0]) for r in rows]


def test_the_job_is_enqueued_with_the_record_and_rolled_back_with_it(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    api = _engine(db, Held(), "api:1", queue)
    op = api.submit("held", {}, created_by="admin")
    assert op.status is OperationStatus.QUEUED
    assert _jobs(db) == [op.id]
    assert queue.waiting() == {op.id}

    def refuse(_conn: sa.Connection, _op: Operation) -> None:
        raise InvalidRequest("the receipt cannot be written")

    with pytest.raises(InvalidRequest):
        api.submit("held", {}, created_by="admin", also=refuse)
    assert _jobs(db) == [op.id]  # neither a second record nor a job for it
    with db.read() as conn:
        assert repo.count(conn, kind="held", status=None) == 1
    queue.close()


def test_an_api_engine_runs_nothing_and_a_worker_runs_the_job(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    held = Held()
    api, worker = _engine(db, held, "api:1", queue), _engine(db, held, "worker:1", queue)
    op = api.submit("held", {}, created_by="admin")
    time.sleep(0.2)
    assert api.get(op.id).status is OperationStatus.QUEUED and not held.entered.is_set()
    held.release.set()
    worker.run(op.id)
    worker.run(op.id)  # a duplicate job finds it claimed, and ended: nothing runs twice
    done = api.wait(op.id, timeout=5)
    assert done.status is OperationStatus.SUCCEEDED and done.result == {"done": True}
    assert held.stopped == []


def test_a_cancel_through_another_process_reaches_the_runner(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    held = Held()
    api, worker = _engine(db, held, "api:1", queue), _engine(db, held, "worker:1", queue)
    op = api.submit("held", {}, created_by="admin")
    runner = threading.Thread(target=worker.run, args=(op.id,), daemon=True)
    runner.start()
    assert held.entered.wait(5)
    assert api.cancel(op.id).cancel_requested
    runner.join(5)
    assert api.get(op.id).status is OperationStatus.CANCELLED and held.stopped == [op.id]


def test_a_silent_runner_is_taken_over_and_can_no_longer_write(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    held = Held()
    dead, alive = _engine(db, held, "worker:dead", queue), _engine(db, held, "worker:alive", queue)
    dead.interrupted_reason = "interrupted: the worker stopped"
    op = alive.submit("held", {}, created_by="admin")
    runner = threading.Thread(target=dead.run, args=(op.id,), daemon=True)
    runner.start()
    assert held.entered.wait(5)
    assert alive.recover() == [] and alive.get(op.id).status is OperationStatus.RUNNING  # not stale yet
    held.frozen.set()
    time.sleep(STALE.total_seconds() + 0.5)
    alive.interrupted_reason = "interrupted: the worker stopped"
    assert alive.recover() == []  # not resumable: failed with the reason
    failed = alive.get(op.id)
    assert failed.status is OperationStatus.FAILED and failed.error_message == "interrupted: the worker stopped"
    assert failed.steps[0].result == StepResult.FAILED
    # The silent runner comes back: its claim is gone, it stops, and its end is not recorded.
    assert dead.beat() == [op.id]
    held.frozen.clear()
    runner.join(5)
    assert held.stopped == [op.id]
    assert alive.get(op.id).status is OperationStatus.FAILED
    assert alive.get(op.id).error_message == "interrupted: the worker stopped"


def test_a_resumable_operation_is_requeued_with_a_new_job_and_runs_once(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    held = Held()
    dead, alive = _engine(db, held, "worker:dead", queue), _engine(db, held, "worker:alive", queue)
    op = alive.submit("again", {}, created_by="admin")
    with db.begin() as conn:  # the job is taken (procrastinate "doing") by the worker that dies
        conn.execute(sa.text("UPDATE procrastinate_jobs SET status = 'doing'"))
    runner = threading.Thread(target=dead.run, args=(op.id,), daemon=True)
    runner.start()
    assert held.entered.wait(5)
    held.frozen.set()
    time.sleep(STALE.total_seconds() + 0.5)
    assert alive.recover() == [op.id]
    assert alive.get(op.id).status is OperationStatus.QUEUED and _jobs(db) == [op.id]
    assert alive.recover() == []  # a second look (another worker's) settles nothing twice
    assert dead.beat() == [op.id]
    held.frozen.clear()
    runner.join(5)
    assert held.stopped == [op.id]
    held.release.set()
    alive.run(op.id)
    done = alive.get(op.id)
    assert done.status is OperationStatus.SUCCEEDED and done.result == {"done": True}


def test_beats_keep_a_long_operation_from_being_taken_over(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    held = Held()
    worker, other = _engine(db, held, "worker:1", queue), _engine(db, held, "worker:2", queue)
    op = other.submit("held", {}, created_by="admin")
    runner = threading.Thread(target=worker.run, args=(op.id,), daemon=True)
    runner.start()
    assert held.entered.wait(5)
    held.frozen.set()  # no progress written: only the beats keep the claim
    for _ in range(6):
        time.sleep(STALE.total_seconds() / 3)
        assert worker.beat() == []
        assert other.recover() == []
    held.release.set()
    runner.join(5)
    assert other.get(op.id).status is OperationStatus.SUCCEEDED


def test_a_cancel_recorded_by_another_process_is_passed_on_to_the_part_running_elsewhere(db: Database) -> None:
    queue = ProcrastinateQueue(db.url)
    forwarded = threading.Event()
    inside = threading.Event()

    def remote_part(_ctx: Any, op: Operation, rec: Recorder) -> None:
        # A clone's apply on its target: the forward stands for asking the target to stop.
        with rec.step("Working"), rec.cancel_forwarded_to(forwarded.set):
            rec.check_cancelled()
            inside.set()
            while not forwarded.wait(0.02):
                rec.flush()
            raise Cancelled("the other party stopped")

    registry = Registry()
    registry.register(OperationKind("remote", remote_part, ("Working",)))
    api = Engine(db, registry, {}, runner_id="api:1", workers=0, queue=queue)
    worker = Engine(db, registry, {}, runner_id="worker:1", workers=0, queue=queue)
    op = api.submit("remote", {}, created_by="admin")
    runner = threading.Thread(target=worker.run, args=(op.id,), daemon=True)
    runner.start()
    assert inside.wait(5)
    api.cancel(op.id)  # recorded in the database only: the API process runs nothing
    runner.join(5)
    assert forwarded.is_set()
    assert api.get(op.id).status is OperationStatus.CANCELLED
