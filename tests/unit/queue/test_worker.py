"""Scale-out start-up and schedules on a real PostgreSQL database: a process refuses to start in a
mode its database cannot serve, and daily maintenance is handled once per slot however many
workers tick at once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from envclone.domain import maintenance
from envclone.errors import ConfigError
from envclone.queue import ProcrastinateQueue
from envclone.queue.worker import SCHEDULES_LOCK, Worker
from envclone.server import build_context
from envclone.services.context import ServiceContext
from envclone.settings import load_settings
from envclone.store import locks
from envclone.store import operations as repo
from tests.conftest import ADMIN_PASSWORD, PgDatabases

KEY = "a-shared-sealing-key-of-enough-length-0001"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envclone.cli.main", *args],
        env={**os.environ, "ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_api_only_process_on_sqlite_is_refused(tmp_path: Path) -> None:
    done = _cli("serve", "--workers", "0", "--data-dir", str(tmp_path), env={"ENVCLONE_SECRET_KEY": KEY})
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "needs PostgreSQL" in message and "ENVCLONE_DATABASE_URL" in message
    assert "Traceback" not in done.stderr


def test_a_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    done = _cli("worker", "--data-dir", str(tmp_path), env={"ENVCLONE_SECRET_KEY": KEY})
    assert done.returncode == 2 and "needs PostgreSQL" in " ".join(done.stderr.split())


@pytest.mark.postgres
def test_scale_out_without_a_shared_sealing_key_is_refused(pg_databases: PgDatabases, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=pg_databases.create(), workers=0)
    with pytest.raises(ConfigError, match="ENVCLONE_SECRET_KEY"):
        build_context(settings)


def test_the_stale_time_must_span_several_heartbeats() -> None:
    with pytest.raises(ConfigError, match="worker_stale_seconds"):
        load_settings(worker_heartbeat_seconds=10, worker_stale_seconds=20)


@pytest.fixture
def workers(pg_databases: PgDatabases, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two worker processes' contexts on one database (built as `envclone worker` builds them,
    without taking jobs)."""
    url = pg_databases.create()
    made: list[ServiceContext] = []
    for name in ("w1", "w2"):
        settings = load_settings(
            data_dir=tmp_path / name, database_url=url, secret_key=KEY, admin_password=ADMIN_PASSWORD
        )
        ctx, _ = build_context(settings, worker=True)
        made.append(ctx)
    queues = [ctx.engine.queue for ctx in made]
    assert all(isinstance(q, ProcrastinateQueue) for q in queues)
    yield [Worker(ctx, q) for ctx, q in zip(made, queues, strict=True)]  # type: ignore[arg-type]
    for ctx in made:
        ctx.engine.shutdown(wait=False)
        ctx.db.dispose()


def _maintenance_ops(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return repo.count(conn, kind=maintenance.KIND, status=None)


@pytest.mark.postgres
def test_daily_maintenance_is_started_once_when_workers_tick_together(workers: list[Worker]) -> None:
    first = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert workers[0].tick_schedules(first)  # the first tick only records where the schedule stands
    due = first + dt.timedelta(days=1)
    barrier = threading.Barrier(len(workers))

    def tick(worker: Worker) -> None:
        barrier.wait()
        worker.tick_schedules(due)

    threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for worker in workers:  # later ticks of the same day find the slot handled
        worker.tick_schedules(due + dt.timedelta(minutes=1))
    assert _maintenance_ops(workers[0].ctx) == 1


@pytest.mark.postgres
def test_a_tick_gives_way_while_another_process_ticks(workers: list[Worker]) -> None:
    first = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    workers[0].tick_schedules(first)
    due = first + dt.timedelta(days=1)
    with locks.attempt(workers[1].ctx.db, SCHEDULES_LOCK) as mine:
        assert mine
        assert workers[0].tick_schedules(due) is False
        assert _maintenance_ops(workers[0].ctx) == 0
    assert workers[0].tick_schedules(due) is True
    assert _maintenance_ops(workers[0].ctx) == 1


@pytest.mark.postgres
def test_a_queued_operation_without_a_job_is_enqueued_again(workers: list[Worker]) -> None:
    worker = workers[0]
    worker.stale_seconds = 0.0  # look at every queued operation at once
    op = worker.ctx.engine.submit(maintenance.KIND, {}, created_by="admin")
    assert worker.sweep() == []  # it has its job
    with worker.ctx.db.begin() as conn:  # the job is lost (taken by a worker that died unclaimed)
        conn.exec_driver_sql("UPDATE procrastinate_jobs SET status = 'failed'")
    assert worker.sweep() == [op.id]
    assert worker.queue.waiting() == {op.id}


@pytest.mark.postgres
def test_an_all_in_one_server_refuses_a_database_that_workers_serve(pg_databases: PgDatabases, tmp_path: Path) -> None:
    url = pg_databases.create()
    settings = load_settings(data_dir=tmp_path / "w", database_url=url, secret_key=KEY, admin_password=ADMIN_PASSWORD)
    ctx, _ = build_context(settings, worker=True)
    with ctx.db.begin() as conn:  # a worker registered as procrastinate registers it, beating now
        conn.exec_driver_sql("INSERT INTO procrastinate_workers DEFAULT VALUES")
    all_in_one = load_settings(data_dir=tmp_path / "s", database_url=url, admin_password=ADMIN_PASSWORD)
    with pytest.raises(ConfigError, match="--workers 0"):
        build_context(all_in_one)
    with ctx.db.begin() as conn:  # the workers stopped long ago: the server may run everything again
        conn.exec_driver_sql("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    again, _ = build_context(all_in_one)
    again.engine.shutdown(wait=False)
    ctx.db.dispose()
    again.db.dispose()
