"""Operations that have ended, as last read from the database, kept a few seconds so that clients
polling a finished operation's status do not each cost a query; and operation numbers -> ids.
Only terminal operations are kept: their record no longer changes (store.operations.finish is
guarded by an open status), except to be forgotten, which empties this at once (ServiceContext)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from envclone.domain.operation import Operation

MAX_ENTRIES = 1024  # full means emptied


class FinishedOperations:
    """Thread-safe: filled from the API's worker threads, read on its event loop. Callers share
    the Operation objects kept here and must not change them (readers render, never edit)."""

    def __init__(self, ttl: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._ops: dict[str, tuple[Operation, float]] = {}
        self._ids: dict[int, str] = {}  # number -> id: fixed once given, until forgotten
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """Read before going to the database, handed back with what was read (see forget_all)."""
        return self._epoch

    def get(self, op_id: str) -> Operation | None:
        found = self._ops.get(op_id)  # a dict read is atomic: no lock on the hot path
        return found[0] if found is not None and found[1] > self._clock() else None

    def id_of(self, number: int) -> str | None:
        return self._ids.get(number)

    def put(self, op: Operation, epoch: int) -> None:
        """Keep ``op`` if it has ended, and its number in any case."""
        with self._lock:
            if epoch != self._epoch:  # forgotten since it was read
                return
            if len(self._ops) >= MAX_ENTRIES or len(self._ids) >= MAX_ENTRIES:
                self._ops.clear()
                self._ids.clear()
            self._ids[op.seq] = op.id
            if op.status.is_terminal:
                self._ops[op.id] = (op, self._clock() + self.ttl)

    def forget_all(self) -> None:
        with self._lock:
            self._epoch += 1
            self._ops.clear()
            self._ids.clear()
