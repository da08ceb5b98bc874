"""Operation kinds: a name, the handler that runs it, its planned steps and what the engine may
do with it (one-at-a-time, cancel, resume after a restart)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from envclone.errors import InvalidRequest

if TYPE_CHECKING:
    from envclone.domain.operation import Operation
    from envclone.domain.progress import Phase
    from envclone.engine.recorder import Recorder


class Handler(Protocol):
    """Runs one operation to its end. Raise an EnvcloneError to fail with its code and message;
    ``Cancelled`` (from ``rec.check_cancelled()``) to stop. Must leave the environment either as
    it was or fully changed: the engine cannot undo half a handler."""

    def __call__(self, context: Any, op: Operation, rec: Recorder, /) -> None: ...


@dataclass(frozen=True)
class OperationKind:
    name: str
    handler: Handler
    steps: tuple[str, ...]
    exclusive: bool = False  # replaces environment content: at most one at a time
    cancellable: bool = True
    resumable: bool = False  # re-run from the start after a restart instead of failing
    phases: tuple[Phase, ...] = ()  # what takes time, weighted (domain.progress); default: one per step
    # For an operation interrupted by a restart while its work went on elsewhere (a clone whose
    # target was asked to apply): True runs it again as it stood, steps and result kept, and its
    # handler asks how that work ended instead of failing it as interrupted.
    reattach: Callable[[Operation], bool] | None = None


class Registry:
    def __init__(self) -> None:
        self._kinds: dict[str, OperationKind] = {}

    def register(self, kind: OperationKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"operation kind {kind.name} registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> OperationKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise InvalidRequest(f"unknown operation kind {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._kinds
