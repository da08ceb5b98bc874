"""What a running handler reports through: step transitions (written at once), progress (the
operation's phases and how far the current one is, written at most every half second), results,
and cooperative cancellation. The model itself, percent and estimated end, is domain.progress."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.domain.operation import Operation, StepResult
from envclone.domain.progress import Phase, Tracker, phases_of_steps
from envclone.errors import EnvcloneError
from envclone.store import operations as repo
from envclone.store.database import Database

_FLUSH_SECONDS = 0.5
log = logging.getLogger("envclone.engine")


class Cancelled(EnvcloneError, code="cancelled", status=409):
    """The operation was cancelled."""


class Recorder:
    def __init__(
        self,
        db: Database,
        op: Operation,
        phases: Sequence[Phase] = (),
        keep_secrets: Callable[[dict[str, str]], None] | None = None,
        *,
        fence: str | None = None,
    ) -> None:
        self._db = db
        self.op = op
        self._keep_secrets = keep_secrets
        self._fence = fence  # the runner whose claim every write needs (several runners share the database)
        self._lock = threading.Lock()
        self._tracker = Tracker(phases or phases_of_steps([s.key for s in op.steps]), op.progress, op.started)
        self._last_flush = 0.0
        self._cancel_seen = op.cancel_requested
        self._cancel_lock = threading.Lock()  # a cancel against cancel_forwarded_to
        self._forward: Callable[[], None] | None = None
        self._forwarded = False  # the cancel was passed on (once is enough)

    # -- steps ------------------------------------------------------------------------------------
    @contextmanager
    def step(self, key: str) -> Iterator[None]:
        """Run one planned step: in progress now, success at the end, failed (with the error's
        English message as details) if the block raises."""
        step = self.op.step(key)
        with self._lock:
            step.result, step.started, step.details = StepResult.IN_PROGRESS, utcnow(), None
            self._tracker.start_step(key, step.started)
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
        with self._lock:
            step.result, step.ended = StepResult.SUCCESS, utcnow()
            self._tracker.finish_step(key, step.ended)
        self.flush(force=True)

    def not_applicable(self, key: str, reason: str | None = None) -> None:
        """A step that has nothing to do here: its phases count as done."""
        step = self.op.step(key)
        with self._lock:
            step.result, step.details = StepResult.NOT_APPLICABLE, reason
            step.started = step.ended = utcnow()
            self._tracker.finish_step(key, step.ended)
        self.flush(force=True)

    # -- progress ---------------------------------------------------------------------------------
    def phase(self, key: str) -> None:
        """Enter one of the kind's phases (a part of a step, e.g. the transfer within a clone's
        recreate step); every earlier phase counts as done. Its bytes and items start at zero."""
        with self._lock:
            self._tracker.enter(key, utcnow())
        self.flush()

    def plan(self, *, bytes_total: int | None = None, items_total: int | None = None) -> None:
        """What the current phase will measure (an estimate is fine: done never shows above it)."""
        with self._lock:
            self._tracker.plan(bytes_total=bytes_total, items_total=items_total, now=utcnow())
        self.flush()

    def advance(self, *, nbytes: int = 0, items: int = 0) -> None:
        """Thread-safe: worker threads of one operation may report concurrently."""
        with self._lock:
            self._tracker.advance(nbytes=nbytes, items=items, now=utcnow())
        self.flush()

    def measured(self, fraction: float) -> None:
        """The current phase's fraction as another party measures it (a clone's target applying)."""
        with self._lock:
            self._tracker.measured(fraction, utcnow())
        self.flush()

    def succeeded(self) -> None:
        """The handler returned: 100 %, and only now."""
        with self._lock:
            self._tracker.succeeded()

    def set_result(self, **values: object) -> None:
        with self._lock:
            self.op.result.update(values)
        self.flush(force=True)

    def keep_secret(self, name: str, value: str) -> None:
        """A secret learnt while running (a clone's receipt from its target) that this operation
        needs again if the server restarts: sealed beside the record with those it was given, and
        in ``op.secrets`` from now on. Kept in memory only where the engine keeps none (tests)."""
        with self._lock:
            self.op.secrets[name] = value
            secrets = dict(self.op.secrets)
        if self._keep_secrets is not None:
            self._keep_secrets(secrets)

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
                    self._cancel_seen = repo.save_progress(conn, self.op, runner=self._fence) or self._cancel_seen
            except sa.exc.OperationalError:
                # SQLite's write lock, or a PostgreSQL row lock (a cancel being recorded): the next
                # flush catches up, and finishing writes the whole record in its own transaction.
                pass
        if self._cancel_seen and self._fence is not None:
            self._pass_on_recorded_cancel()

    def _pass_on_recorded_cancel(self) -> None:
        """Several processes: a cancel recorded by another one (an API process) while a part of the
        operation runs elsewhere reaches that part only from here, so it is passed on now, as
        ``cancel`` does in-process. Best effort: the canceller was answered already; a refusal
        (the other party passed its point of no return) is logged and the operation runs on."""
        with self._cancel_lock:
            forward = self._forward
            if forward is None or self._forwarded:
                return
            self._forwarded = True

        def pass_on() -> None:
            try:
                forward()
            except EnvcloneError as exc:
                log.warning("operation %s: a cancel recorded elsewhere was refused: %s", self.op.id, exc.message)

        # In a thread of its own: the forward may wait for the other party's answer.
        threading.Thread(target=pass_on, name=f"envclone-cancel-{self.op.id[:8]}", daemon=True).start()

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

    def revoke(self) -> None:
        """This runner lost its claim (taken over after its heartbeats stopped): stop at the next
        check, as a cancel would; the fence keeps every later write off the record."""
        self._cancel_seen = True

    def cancel(self, record: Callable[[], None]) -> None:
        """The engine's side of a cancel: pass it on first while a part of the operation runs
        elsewhere (cancel_forwarded_to), then ``record`` it and let the next check see it at once.
        Either may raise to refuse it. One lock with cancel_forwarded_to, so that a cancel is
        either passed on or seen by the handler's check that follows the forward's setting."""
        with self._cancel_lock:
            if self._forward is not None:
                self._forward()
                self._forwarded = True
            record()
            self._cancel_seen = True
            with self._lock:  # the live record shows the cancel at once, as the database does
                self.op.cancel_requested = True

    def pass_point_of_no_return(self) -> None:
        """From here the operation runs to its end (call it just before the one transaction that
        replaces content): a cancel recorded before now stops it here (Cancelled), one asked for
        after is refused. Recorded at once, so that every reader and process sees it."""
        self.check_cancelled()
        if not self.mark_point_of_no_return():
            raise Cancelled()

    def mark_committed(self, conn: sa.Connection, result: Mapping[str, object] | None = None) -> None:
        """Inside the transaction that makes the operation's change (after its last check): the
        change and the knowledge that it was made commit together, so a crash before the final
        status is written recovers as succeeded instead of reporting a made change as failed.
        ``result``: what the operation will report once committed (a clone's target: its digests,
        which its source reads), recorded with it so that the recovered operation reports it too."""
        view = self.snapshot()
        view.result.update(result or {})
        repo.mark_committed(conn, view)

    def mark_point_of_no_return(self) -> bool:
        """Record the point of no return unless a cancel was recorded first (then False). For a
        handler whose stopping is decided elsewhere (a clone, by its target); others use
        pass_point_of_no_return."""
        with self._db.begin() as conn:
            passed = repo.pass_point_of_no_return(conn, self.op.id)
        if passed is None:
            self._cancel_seen = True
            return False
        with self._lock:
            self.op.point_of_no_return = passed
        return True

    @contextmanager
    def cancel_forwarded_to(self, forward: Callable[[], None]) -> Iterator[None]:
        """While a part of the operation runs elsewhere (a clone's apply on its target), which
        alone knows whether it can still stop: a cancel is first passed to ``forward``, in the
        canceller's thread, which raises (NotCancellable) to refuse it. Check for a cancel first
        thing in the block: one recorded before it was not passed on."""
        with self._cancel_lock:
            self._forward, self._forwarded = forward, False
        try:
            yield
        finally:
            with self._cancel_lock:
                self._forward = None
