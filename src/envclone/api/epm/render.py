"""Operations in EPM's status shape, driven by tables: step results as Oracle spells them in
``intermittentStatus``, ``statusDetails`` localized, ``status`` as a Migration Status Code."""

from __future__ import annotations

from typing import Any

from envclone.api.epm.errors import migration_status
from envclone.domain.operation import Operation, OperationStatus, StepResult
from envclone.locales import Translator

INTERMITTENT: dict[StepResult, str] = {
    StepResult.IN_PROGRESS: "In Progress",
    StepResult.SUCCESS: "Success",
    StepResult.FAILED: "Failed",
    StepResult.NOT_APPLICABLE: "NA",
}
# statusDetails spells the same results differently from intermittentStatus.
DETAIL_RESULT: dict[StepResult, str] = {
    StepResult.IN_PROGRESS: "inProgress",
    StepResult.SUCCESS: "success",
    StepResult.FAILED: "failed",
    StepResult.NOT_APPLICABLE: "NA",
}


def status_code(op: Operation) -> int:
    if not op.status.is_terminal:
        return -1
    if op.status is OperationStatus.SUCCEEDED:
        return 0
    return migration_status(op.error_code)


def intermittent(op: Operation) -> list[dict[str, str]] | None:
    shown = [s for s in op.steps if s.result is not StepResult.PENDING]
    return [{s.key: INTERMITTENT[s.result]} for s in shown] or None


def status_details(op: Operation, tr: Translator) -> list[dict[str, Any]] | None:
    shown = [s for s in op.steps if s.result is not StepResult.PENDING]
    details = []
    for step in shown:
        entry: dict[str, Any] = {"message": tr(step.key), "result": DETAIL_RESULT[step.result]}
        if step.result is StepResult.FAILED and step.details:
            entry["failureDetails"] = step.details
        details.append(entry)
    return details or None


def job_link(base_url: str, path: str) -> dict[str, Any]:
    return {"href": base_url.rstrip("/") + path, "action": "GET", "rel": "Job Status", "data": None}


def envelope(*, status: int = 0, details: str | None = None, items: Any = None, links: Any = None) -> dict[str, Any]:
    return {"details": details, "status": status, "items": items, "links": links}
