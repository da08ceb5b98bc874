"""The content lock taken late, by an operation that first waits for something that changes no
content (a duplication target waiting for its package): until it holds the lock a restore, clone
or maintenance here is accepted; once it does they are refused as for any exclusive operation.
The engine releases the lock when the operation ends, whatever the outcome."""

from __future__ import annotations

import time

import sqlalchemy as sa

from envclone.engine import Recorder
from envclone.errors import Conflict
from envclone.operations.context import OperationContext
from envclone.store import operations as repo

POLL_SECONDS = 0.2


def hold_content_lock(ctx: OperationContext, rec: Recorder, op_id: str, timeout: float) -> None:
    """Take the content lock for ``op_id``, waiting while another operation holds it (a cancel
    stops the wait); Conflict naming the holder when it still holds it after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        holder = _try(ctx, op_id)
        if holder is None:
            return
        rec.check_cancelled()
        if time.monotonic() >= deadline:
            raise Conflict(
                f"{holder} was still changing this environment's content after {timeout:.0f} s; nothing was changed"
            )
        time.sleep(POLL_SECONDS)


def _try(ctx: OperationContext, op_id: str) -> str | None:
    # A read first: on SQLite an exclusive operation may hold the write lock for long, and a
    # write would queue behind it instead of seeing that the lock is taken.
    with ctx.db.read() as conn:
        holder = repo.lock_holder(conn)
    if holder is not None and holder[1] != op_id:
        return f"the {holder[0]} operation {holder[1]}"
    try:
        with ctx.db.begin_nowait() as conn:
            return repo.take_lock(conn, op_id)
    except sa.exc.OperationalError:  # a writer holds the database for now: try again at the next poll
        return "another operation"
