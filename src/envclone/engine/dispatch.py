"""Where a recorded operation goes to be run: this process's thread pool (the embedded default,
the Engine's own) or a task queue that worker processes take jobs from. The queue is a Protocol
here, implemented by envclone.queue (procrastinate); the engine never imports a queue library."""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa


class JobQueue(Protocol):
    """A distributed task queue for operations.

    ``enqueue`` runs inside ``conn``'s transaction, the one that records (or requeues) the
    operation: the job and the record commit together or not at all, so no operation waits for a
    job that was never enqueued and no job names an operation that does not exist. A job may be
    enqueued twice for one operation (a sweeper's second look): the claim (queued -> running,
    one row update) lets exactly one of them run it, the others find it claimed and return."""

    def enqueue(self, conn: sa.Connection, op_id: str) -> None: ...
