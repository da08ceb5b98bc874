"""Operations as read a moment ago, so that clients polling a status do not each cost a query or a
deep copy of the engine's live record; and operation numbers -> ids. What a view may not outlive:
- a running operation's: ``running_ttl`` (a fraction of a second: progress moves), and the end of
  that operation here (``ended``, which the engine's when_finished hook calls). Such views are taken
  and kept under one lock, so that the view kept only moves forward: every reader, of one
  operation or of a list, sees progress that never goes back;
- a finished operation's: ``ttl`` seconds. Its record no longer changes (store.operations.finish
  is guarded by an open status) except to be forgotten, which empties this at once. A read from
  the database that started before ``ended`` or ``forget_all`` cannot put its answer back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from envclone.domain.operation import Operation

MAX_ENTRIES = 1024  # each map at most; full means emptied


class OperationViews:
    """Thread-safe: filled from the API's worker threads, read on its event loop. Callers share
    the Operation objects kept here and must not change them (readers render, never edit)."""

    def __init__(
        self, ttl: float = 2.0, running_ttl: float = 0.05, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.running_ttl = running_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._ops: dict[str, tuple[Operation, float]] = {}
        self._ids: dict[int, str] = {}  # number -> id: fixed once given, until forgotten
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """Read before reading the operation, handed back with what was read."""
        return self._epoch

    def get(self, op_id: str) -> Operation | None:
        found = self._ops.get(op_id)  # a dict read is atomic: no lock on the hot path
        return found[0] if found is not None and found[1] > self._clock() else None

    def id_of(self, number: int) -> str | None:
        return self._ids.get(number)

    def running(self, op_id: str, snapshot: Callable[[str], Operation | None]) -> Operation | None:
        """The view kept of ``op_id`` if still fresh, else ``snapshot(op_id)`` (the engine's live
        view, None if it does not run here), kept. No I/O."""
        found = self.get(op_id)
        if found is not None:
            return found
        with self._lock:
            found = self.get(op_id)  # another reader may have taken one meanwhile
            if found is None:
                found = snapshot(op_id)
                if found is not None:
                    self._keep(found, self.ttl if found.status.is_terminal else self.running_ttl)
            return found

    def put(self, op: Operation, epoch: int) -> None:
        """Keep ``op``, as read from the database, if it has ended; its number in any case."""
        with self._lock:
            if epoch != self._epoch:  # ended or forgotten since it was read
                return
            if op.status.is_terminal:
                self._keep(op, self.ttl)
            else:
                self._ids[op.seq] = op.id

    def _keep(self, op: Operation, ttl: float) -> None:
        if len(self._ops) >= MAX_ENTRIES or len(self._ids) >= MAX_ENTRIES:
            self._ops.clear()
            self._ids.clear()
        self._ids[op.seq] = op.id
        self._ops[op.id] = (op, self._clock() + ttl)

    def ended(self, op_id: str) -> None:
        """The operation ended or was asked to cancel: its next read must see it."""
        with self._lock:
            self._epoch += 1
            self._ops.pop(op_id, None)

    def forget_all(self) -> None:
        with self._lock:
            self._epoch += 1
            self._ops.clear()
            self._ids.clear()
