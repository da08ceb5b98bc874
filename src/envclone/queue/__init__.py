"""Distributed operations on an existing task queue, procrastinate (jobs in the same PostgreSQL
as the operation records; docs/scale-out.md says why not Celery): the engine's JobQueue for API
processes, the procrastinate schema at start-up, and the worker process. Nothing here runs on the
embedded default (SQLite, operations in the server process)."""

from envclone.queue.jobs import ProcrastinateQueue, conninfo
from envclone.queue.schema import install_schema, live_workers

__all__ = ["ProcrastinateQueue", "conninfo", "install_schema", "live_workers"]
