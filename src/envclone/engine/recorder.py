"""What a running handler reports through: step transitions (written at once), progress (written
at most every half second), results, and cooperative cancellation."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.domain.operation import Operation, StepResult
from envclone.errors import EnvcloneError
from envclone.store import operations as repo
from envclone.store.database import Database

_FLUSH_SECONDS = 0.5


class Cancelled(EnvcloneError, code="cancelled", status=409):
    """The operation was cancelled."""


class Recorder:
    def __init__(self, db: Database, op: Operation) -> None:
        self._db = db
        self.op = op
        self._lock = threading.Lock()
        self._last_flush = 0.0
        self._cancel_seen = op.cancel_requested

    # -- steps ------------------------------------------------------------------------------------
    @contextmanager
    def step(self, key: str) -> Iterator[None]:
        """Run one planned step: in progress now, success at the end, failed (with the error's
        English message as details) if the block raises."""
        step = self.op.step(key)
        step.result, step.started, step.details = StepResult.IN_PROGRESS, utcnow(), None
        self.flush(force=True)
        try:
            yield
        except Cancelled:
            step.result, step.ended, step.details = StepResult.FAILED, utcnow(), "cancelled"
            self.flush(force=True)
            raise
        except EnvcloneError as exc:
            step.result, step.ended, step.details = StepResult.FAILED, utcnow(), exc.message
            self.flush(force=True)
            raise
        except Exception as exc:
            step.result, step.ended = StepResult.FAILED, utcnow()
            step.details = f"internal error: {type(exc).__name__}"
            self.flush(force=True)
            raise
        step.result, step.ended = StepResult.SUCCESS, utcnow()
        self.flush(force=True)

    def not_applicable(self, key: str, reason: str | None = None) -> None:
        step = self.op.step(key)
        step.result, step.details = StepResult.NOT_APPLICABLE, reason
        step.started = step.ended = utcnow()
        self.flush(force=True)

    # -- progress ---------------------------------------------------------------------------------
    def plan(self, *, bytes_total: int | None = None, items_total: int | None = None) -> None:
        with self._lock:
            if bytes_total is not None:
                self.op.progress.bytes_total = bytes_total
            if items_total is not None:
                self.op.progress.items_total = items_total
        self.flush()

    def advance(self, *, nbytes: int = 0, items: int = 0) -> None:
        """Thread-safe: worker threads of one operation may report concurrently."""
        with self._lock:
            self.op.progress.bytes_done += nbytes
            self.op.progress.items_done += items
        self.flush()

    def set_result(self, **values: object) -> None:
        with self._lock:
            self.op.result.update(values)
        self.flush(force=True)

    def flush(self, *, force: bool = False) -> None:
        """Persist progress. Skipped, not waited for, while a lock is held, such as SQLite's write
        lock during the operation's own long transaction (a restore); readers in this process see the live record
        through the engine meanwhile, and the final state is always written."""
        now = time.monotonic()
        if not force and now - self._last_flush < _FLUSH_SECONDS:
            return
        with self._lock:
            self._last_flush = now
            try:
                with self._db.begin_nowait() as conn:
                    self._cancel_seen = repo.save_progress(conn, self.op) or self._cancel_seen
            except sa.exc.OperationalError:
                # SQLite's write lock, or a PostgreSQL row lock (a cancel being recorded): the next
                # flush catches up, and finishing writes the whole record in its own transaction.
                pass

    def snapshot(self) -> Operation:
        with self._lock:
            view = copy.copy(self.op)
            view.secrets = {}
            return copy.deepcopy(view)

    # -- cancel -----------------------------------------------------------------------------------
    def check_cancelled(self) -> None:
        self.flush()
        if self._cancel_seen:
            raise Cancelled()
