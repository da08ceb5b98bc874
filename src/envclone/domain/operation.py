"""Operations: the durable, step-by-step record of every long action (clone, restore, daily
maintenance...). Pure data; the engine persists and advances it, each dialect renders it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from envclone.domain.progress import Progress, ProgressView, view

__all__ = ["Operation", "OperationStatus", "Progress", "ProgressView", "Step", "StepResult"]


class OperationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELLED)


class StepResult(StrEnum):
    """envclone's own words for a step's state, as stored; every dialect renders them through its
    own table (EPM spells them ``inProgress``, ``NA``...)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"

    @property
    def is_terminal(self) -> bool:
        return self in (StepResult.SUCCESS, StepResult.FAILED, StepResult.NOT_APPLICABLE)


@dataclass
class Step:
    key: str  # stable, non-localized; also the English message catalog id
    result: StepResult = StepResult.PENDING
    details: str | None = None  # English failure details
    started: dt.datetime | None = None
    ended: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "result": self.result.value,
            "details": self.details,
            "started": self.started.isoformat() if self.started else None,
            "ended": self.ended.isoformat() if self.ended else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(
            key=data["key"],
            result=StepResult(data["result"]),
            details=data.get("details"),
            started=dt.datetime.fromisoformat(data["started"]) if data.get("started") else None,
            ended=dt.datetime.fromisoformat(data["ended"]) if data.get("ended") else None,
        )


@dataclass
class Operation:
    id: str
    kind: str
    status: OperationStatus
    params: dict[str, Any]  # secrets already redacted
    steps: list[Step] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    result: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    created: dt.datetime | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    created_by: str = ""
    cancel_requested: bool = False
    # When it began what cannot be stopped half-way (the one transaction that replaces content):
    # cancels are honoured before, refused after. None until then.
    point_of_no_return: dt.datetime | None = None
    seq: int = 0  # a number for dialects whose job ids are numeric (EPM)
    # In memory only, never persisted nor rendered (target passwords): lost on restart, so an
    # operation that needs them cannot be resumed and fails instead.
    secrets: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def progress_view(self, now: dt.datetime) -> ProgressView:
        """The progress every surface renders (see domain.progress)."""
        return view(
            self.progress,
            succeeded=self.status is OperationStatus.SUCCEEDED,
            finished=self.status.is_terminal,
            ended=self.ended,
            now=now,
        )

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)
