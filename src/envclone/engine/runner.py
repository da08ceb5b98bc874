"""The Engine: submits operations (durable first, then dispatched), claims and runs them on a
small thread pool in this process, finishes them with a terminal status, cancels, and recovers
operations a previous run of this server left open (resumed or failed with the reason). With a
JobQueue (engine.dispatch) it runs nothing by itself: operations are enqueued with their record
and run by whichever worker process takes the job (``run``), fenced by the runner's claim."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from envclone.auth.sealing import Sealer
from envclone.domain.clock import utcnow
from envclone.domain.operation import Operation, OperationStatus, Step, StepResult
from envclone.engine.dispatch import JobQueue
from envclone.engine.recorder import Cancelled, Recorder
from envclone.engine.registry import OperationKind, Registry
from envclone.errors import Conflict, EnvcloneError, NotCancellable
from envclone.store import operation_secrets
from envclone.store import operations as repo
from envclone.store.database import Database

log = logging.getLogger("envclone.engine")
INTERRUPTED = "interrupted: the server stopped while this operation was running"
HEARTBEAT_STALE = dt.timedelta(minutes=2)
CANCEL_WAIT_SECONDS = 30.0


class Engine:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        context: Any,
        *,
        runner_id: str,
        workers: int = 4,
        sealer: Sealer | None = None,
        queue: JobQueue | None = None,
        stale_after: dt.timedelta = HEARTBEAT_STALE,
    ) -> None:
        self.db = db
        # Secrets are sealed with the operation record: any process that claims it (this one after a
        # restart, or another worker) opens them. Without a server key they die with this process.
        self.sealer = sealer or Sealer.ephemeral()
        self.registry = registry
        self.context = context
        self.runner_id = runner_id
        # With a queue, operations run where a worker takes their job (``run``), not in this pool.
        self._queue = queue
        self._pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="envclone-op")
            if workers > 0 and queue is None
            else None
        )
        # Several runners share the database only with a queue: then each write of a running
        # operation is fenced by this runner's claim, so that one whose claim was taken over (it
        # stopped sending heartbeats for stale_after, yet lives) can no longer change the record.
        self._fence = runner_id if queue is not None else None
        self.stale_after = stale_after
        self.interrupted_reason = INTERRUPTED
        self._running: dict[str, Future[None]] = {}
        self._live: dict[str, Recorder] = {}  # what runs here, fresher than the database
        self._finished: list[Callable[[Operation], object]] = []
        self._guard = threading.Lock()

    def when_finished(self, hook: Callable[[Operation], object]) -> None:
        """Call ``hook`` with each operation this engine runs once it has ended (any status), in
        the thread that ran it. A hook's failure is logged; it never changes the operation."""
        self._finished.append(hook)

    # -- submitting -------------------------------------------------------------------------------
    def submit(
        self,
        kind_name: str,
        params: dict[str, Any],
        *,
        created_by: str,
        secrets: dict[str, str] | None = None,
        also: Callable[[sa.Connection, Operation], None] | None = None,
    ) -> Operation:
        """Record the operation (raising Conflict if an exclusive one is open), then start it.
        ``params`` are persisted and shown: redact first; ``secrets`` are kept sealed beside the
        record until it ends, and reach the handler as ``op.secrets``. ``also`` runs in the same
        transaction as the record (a receipt that must exist exactly when the operation does)."""
        kind = self.registry.get(kind_name)
        if kind.exclusive:
            # A read first: on SQLite an exclusive operation (a restore) may hold the write lock for
            # a long time, and the caller wants the Conflict now, not after the busy timeout.
            with self.db.read() as conn:
                repo.check_lock_free(conn)
        with self.db.begin() as conn:
            op = repo.create(conn, kind.name, params, [Step(k) for k in kind.steps], created_by, kind.exclusive)
            if secrets:
                operation_secrets.put(conn, op.id, self.sealer.seal_json(dict(secrets), context=_context(op.id)))
            if also is not None:
                also(conn, op)
            if self._queue is not None:
                self._queue.enqueue(conn, op.id)  # with the record, in its transaction
        if self._queue is None:
            self._dispatch(op.id)
        return op

    def _dispatch(self, op_id: str) -> None:
        if self._queue is not None:
            with self.db.begin() as conn:
                self._queue.enqueue(conn, op_id)
            return
        if self._pool is None:
            raise RuntimeError("this engine runs no operation: it has neither threads nor a queue")
        with self._guard:
            self._running[op_id] = self._pool.submit(self._run, op_id)

    @property
    def queue(self) -> JobQueue | None:
        return self._queue

    def run(self, op_id: str) -> None:
        """Claim and run the operation in the calling thread (a queue worker's job); nothing
        happens if another runner has claimed it or it has ended."""
        self._run(op_id)

    def wait(self, op_id: str, timeout: float | None = None) -> Operation:
        """Block until the operation ends (for the CLI and tests in-process). With a queue the
        operation runs in another process: its record is read until it has ended."""
        with self._guard:
            future = self._running.get(op_id)
        if future is not None:
            future.result(timeout)
        elif self._queue is not None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not (op := self.get(op_id)).status.is_terminal:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"operation {op_id} has not ended after {timeout} s")
                time.sleep(0.2)
            return op
        return self.get(op_id)

    # -- running ----------------------------------------------------------------------------------
    def _run(self, op_id: str) -> None:
        try:
            with self.db.begin() as conn:
                if not repo.claim(conn, op_id, self.runner_id):
                    return
                op = repo.load(conn, op_id)
                sealed = operation_secrets.get(conn, op_id)
            kind = self.registry.get(op.kind)
            op.secrets = self.secrets_of(op_id, sealed)
            rec = Recorder(
                self.db, op, kind.phases, keep_secrets=lambda secrets: self._seal(op_id, secrets), fence=self._fence
            )
            with self._guard:
                self._live[op_id] = rec
            self._execute(kind, op, rec)
        except Exception:
            log.exception("operation %s could not be run", op_id)
            return
        finally:
            with self._guard:
                self._running.pop(op_id, None)
                self._live.pop(op_id, None)
        self._after(op_id)

    def _after(self, op_id: str) -> None:
        for hook in self._finished:
            try:
                hook(self.get(op_id))
            except Exception:
                log.exception("a hook after operation %s failed", op_id)

    def _execute(self, kind: OperationKind, op: Operation, rec: Recorder) -> None:
        status, code, message = OperationStatus.SUCCEEDED, None, None
        try:
            rec.check_cancelled()
            kind.handler(self.context, op, rec)
            rec.succeeded()
        except Cancelled:
            status, code, message = OperationStatus.CANCELLED, Cancelled.code, "cancelled at the user's request"
        except EnvcloneError as exc:
            status, code, message = OperationStatus.FAILED, exc.code, exc.message
        except Exception as exc:
            log.exception("operation %s (%s) failed", op.id, op.kind)
            status, code, message = OperationStatus.FAILED, "internal_error", f"internal error: {type(exc).__name__}"
        with self.db.begin() as conn:
            if status is not OperationStatus.SUCCEEDED and repo.committed_steps(conn, op.id) is not None:
                # The change was committed; what failed came after it (clean-up): the operation
                # made its change, and saying otherwise would send its user to undo a success.
                log.warning("operation %s: %s after its change was committed; it succeeded", op.id, message)
                status, code, message = OperationStatus.SUCCEEDED, None, None
            succeeded = status is OperationStatus.SUCCEEDED
            for step in op.steps:
                if step.result == StepResult.IN_PROGRESS:
                    step.result, step.details = (
                        (StepResult.SUCCESS, None) if succeeded else (StepResult.FAILED, message)
                    )
            if not repo.finish(conn, op, status, code, message, runner=self._fence) and self._fence is not None:
                # Taken over while it ran (its heartbeats stopped): the record is the new runner's.
                log.warning("operation %s was taken over by another runner; its end here is not recorded", op.id)
                return
            repo.clear_committed(conn, op.id)
            operation_secrets.delete(conn, op.id)

    def _seal(self, op_id: str, secrets: dict[str, str]) -> None:
        """Replace a running operation's sealed secrets (it learnt one: Recorder.keep_secret)."""
        with self.db.begin() as conn:
            operation_secrets.put(conn, op_id, self.sealer.seal_json(secrets, context=_context(op_id)))

    def secrets_of(self, op_id: str, sealed: bytes | None) -> dict[str, str]:
        """The operation's secrets opened, or none: sealed by a process whose key is gone (an
        ephemeral key), they are lost, and the handler reports the secret it misses."""
        if sealed is None:
            return {}
        try:
            opened = self.sealer.unseal_json(sealed, context=_context(op_id))
        except EnvcloneError as exc:
            log.warning("operation %s: its secrets cannot be opened: %s", op_id, exc.message)
            return {}
        return {str(k): str(v) for k, v in opened.items()} if isinstance(opened, dict) else {}

    # -- reading and cancelling -------------------------------------------------------------------
    def get(self, op_id: str) -> Operation:
        with self._guard:
            live = self._live.get(op_id)
        if live is not None:
            return live.snapshot()
        with self.db.read() as conn:
            return repo.load(conn, op_id)

    def running(self, op_id: str) -> Operation | None:
        """The live view of ``op_id`` if it runs in this process, else None; never touches the
        database, so an API may call it on its event loop (status polls)."""
        with self._guard:
            live = self._live.get(op_id)
        return live.snapshot() if live is not None else None

    def live(self, op: Operation) -> Operation:
        """``op`` as read from the database, or the live record if it runs here: a listing then
        shows the same progress as a single read (the database lags, and skips writes while a
        long transaction holds SQLite's lock)."""
        with self._guard:
            running = self._live.get(op.id)
        return running.snapshot() if running is not None else op

    def cancel(self, op_id: str) -> Operation:
        """Record a cancel, which the handler honours at its next check, or refuse it
        (NotCancellable): the operation has ended, its kind cannot be cancelled, or it has passed
        its point of no return. A part of it that runs elsewhere is asked first (the recorder's
        forward), and its refusal is this one's. Accepted means it will stop."""
        self._refuse_if_too_late(self.get(op_id))  # before any write: a restore may hold SQLite's write lock
        with self._guard:
            live = self._live.get(op_id)
        if live is None:
            self._record_cancel(op_id)
            with self._guard:
                live = self._live.get(op_id)
            if live is not None:
                # Claimed while the cancel was recorded: its live record was loaded before the
                # cancel committed, so tell it now (recorded already: nothing more to write).
                live.cancel(lambda: None)
        else:
            live.cancel(lambda: self._record_cancel(op_id))
        return self.get(op_id)

    def _record_cancel(self, op_id: str) -> None:
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while True:
            try:
                with self.db.begin_nowait() as conn:
                    recorded = repo.request_cancel(conn, op_id)
                    current = repo.load(conn, op_id)
                break
            except sa.exc.OperationalError:
                # A long writer holds the lock: on SQLite, most likely this very operation, which
                # passed its point of no return since it was read and now replaces content.
                self._refuse_if_too_late(self.get(op_id))
                if time.monotonic() > deadline:
                    raise Conflict("the database is busy; ask for the cancel again") from None
                time.sleep(0.05)
        if not recorded:  # it ended or passed its point of no return meanwhile
            self._refuse_if_too_late(current)
            raise NotCancellable()

    def _refuse_if_too_late(self, op: Operation) -> None:
        if op.status.is_terminal:
            raise NotCancellable(f"operation {op.id} has already ended ({op.status.value})")
        if not self.registry.get(op.kind).cancellable:
            raise NotCancellable(f"a {op.kind} operation cannot be cancelled once started")
        if op.point_of_no_return is not None:
            when = op.point_of_no_return.strftime("%H:%M:%S")
            raise NotCancellable(
                f"the {op.kind} operation {op.id} has passed its point of no return ({when} UTC): its change "
                "is being made all at once and can no longer be stopped, so it will run to its end",
                details={"point_of_no_return": op.point_of_no_return.isoformat()},
            )

    # -- start-up and shut-down -------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Resume or fail what a previous run left open; never leave one in progress."""
        recovered: list[str] = []
        with self.db.begin() as conn:
            for op in self._left_open(conn):
                committed = repo.committed_steps(conn, op.id)
                if committed is not None:
                    # Stopped after its change committed: it succeeded (and never runs again, even if
                    # resumable); the steps as at the commit, the running one and any after it done.
                    op.steps = [
                        Step(s.key, StepResult.SUCCESS, None, s.started, s.ended or utcnow())
                        if not s.result.is_terminal
                        else s
                        for s in committed
                    ]
                    op.progress.percent = 100.0
                    op.result.update(repo.committed_result(conn, op.id))
                    repo.finish(conn, op, OperationStatus.SUCCEEDED, None, None)
                    repo.clear_committed(conn, op.id)
                    operation_secrets.delete(conn, op.id)
                    continue
                kind = self.registry.get(op.kind) if op.kind in self.registry else None
                if kind is not None and kind.reattach is not None and kind.reattach(op):
                    # Its work went on elsewhere: run it again as it stood; it asks how that ended.
                    repo.requeue(conn, op)
                    recovered.append(op.id)
                    continue
                if kind is not None and kind.resumable:
                    for step in op.steps:
                        step.result, step.details, step.started, step.ended = StepResult.PENDING, None, None, None
                    repo.requeue(conn, op)
                    recovered.append(op.id)
                    continue
                for step in op.steps:
                    if step.result == StepResult.IN_PROGRESS:
                        step.result, step.details = StepResult.FAILED, self.interrupted_reason
                repo.finish(conn, op, OperationStatus.FAILED, "interrupted", self.interrupted_reason)
                operation_secrets.delete(conn, op.id)
        for op_id in recovered:
            self._dispatch(op_id)
        return recovered

    def _left_open(self, conn: sa.Connection) -> list[Operation]:
        if self._queue is None:
            # One runner per database: whatever it did not finish is its own, or nobody's.
            return repo.interrupted(conn, self.runner_id, utcnow() - HEARTBEAT_STALE)
        # Many runners: only what a runner stopped beating for; a queued one waits for its job.
        return repo.stale(conn, utcnow() - self.stale_after)

    def beat(self) -> list[str]:
        """Renew this runner's claim on what it runs (a worker calls it every few seconds, however
        busy its operations are); returns the ones whose claim another runner took over, each
        told to stop at its next check."""
        with self._guard:
            live = dict(self._live)
        if not live:
            return []
        with self.db.begin() as conn:
            held = repo.beat(conn, self.runner_id, list(live))
        lost = [op_id for op_id in live if op_id not in held]
        for op_id in lost:
            log.warning("operation %s: this runner's claim was taken over; stopping it", op_id)
            live[op_id].revoke()
        return lost

    def shutdown(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)


def _context(op_id: str) -> str:
    return f"operation:{op_id}"
