"""Distributed operations on an existing task queue, procrastinate (jobs in the same PostgreSQL
as the operation records; docs/scale-out.md says why not Celery): the engine's JobQueue for API
processes, the procrastinate schema at start-up, and the worker process. Nothing here runs on the
embedded default (SQLite, operations in the server process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envclone.queue.schema import install_schema, live_workers

if TYPE_CHECKING:
    from envclone.queue.jobs import ProcrastinateQueue, conninfo

__all__ = ["ProcrastinateQueue", "conninfo", "install_schema", "live_workers"]


def __getattr__(name: str) -> Any:
    """procrastinate and psycopg are imported on first use: a process that never touches the
    queue (the embedded default) does not pay for them."""
    if name in ("ProcrastinateQueue", "conninfo"):
        from envclone.queue import jobs

        return getattr(jobs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
