"""The engine's JobQueue on procrastinate: a job ``envclone.run_operation(op_id)`` inserted on
the very connection, and so in the very transaction, that records the operation (procrastinate's
``connection=`` option of defer), and the sweeper's look at which queued operations lack one.
Knows the task names; what a task does is the worker's (queue.worker)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy as sa
from procrastinate import App, SyncPsycopgConnector

log = logging.getLogger("envclone.queue")

RUN_OPERATION = "envclone.run_operation"
TICK_SCHEDULES = "envclone.tick_schedules"
SETTLE_STALLED = "envclone.settle_stalled_jobs"
QUEUE = "operations"  # the procrastinate queue the operation jobs wait in


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (procrastinate speaks psycopg)."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the task queue needs PostgreSQL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    """Enqueues operation jobs. Needs no connection of its own to enqueue (it writes on the
    caller's); ``open`` gives it a small pool for the sweeper's reads."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = conninfo(database_url)
        self._connector = SyncPsycopgConnector(conninfo=self._conninfo, min_size=0, max_size=2)
        self.app = App(connector=self._connector)
        self._opened = False

    def enqueue(self, conn: sa.Connection, op_id: str) -> None:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection), "the task queue runs on PostgreSQL through psycopg"
        self.app.configure_task(RUN_OPERATION, queue=QUEUE, connection=driver).defer(op_id=op_id)

    def waiting(self) -> set[str]:
        """The operations that have a job waiting to be taken (procrastinate status ``todo``)."""
        if not self._opened:
            self.app.open()
            self._opened = True
        jobs: Any = self.app.job_manager.list_jobs(task=RUN_OPERATION, status="todo")
        return {str(job.task_kwargs.get("op_id")) for job in jobs}

    def close(self) -> None:
        if self._opened:
            self.app.close()
            self._opened = False
