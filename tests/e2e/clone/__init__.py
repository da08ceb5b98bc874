"""Clone an Environment between two real envclone servers on loopback: what the EPM, native and CLI
scenarios share (the documented step names and status bodies, polling the clone's status)."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.builders import b64
from tests.conftest import ADMIN, LiveServer
from tests.e2e.client import PREFIX, PRINTABLE_ASCII, ok

CLONE = f"{PREFIX}/v1/services/clone"
STATUS = f"{PREFIX}/v1/services/clone/status"
DEADLINE = 90.0

# The document's step names, in its order ("Migration status" last).
VALIDATE = "Validation before initiating clone"
LOGIN = "Login to target environment"
VERSION = "Validating target environment version"
SERVICE = "Validating target service environment"
RECREATE = "Performing recreate service on target environment"
MIGRATION = "Migration status"
DOCUMENTED = (VALIDATE, LOGIN, VERSION, SERVICE, RECREATE)
# envclone reports each option between the recreate step and "Migration status".
OPTION_STEPS = {
    "migrateUsers": "Cloning users and predefined roles",
    "dataManagement": "Cloning Data Management records",
    "jobConsole": "Cloning job console records",
    "applicationAudit": "Cloning application audit records",
    "storedSnapshotsAndFiles": "Cloning stored snapshots and files",
    "maintenanceStartTime": "Setting daily maintenance start time",
    "appProperties": "Cloning application properties",
}
STATUS_KEYS = {
    "details",
    "status",
    "items",
    "links",
    "backupName",
    "backupCreatedTime",
    "cloneStartTime",
    "cloneCompletedTime",
    "intermittentStatus",
    "statusDetails",
}


def clone_ops(http: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(http.get("/v1/operations", params={"kind": "cloneEnvironment", "limit": 1000}))[
        "items"
    ]
    return items


def latest_clone(http: httpx.Client) -> dict[str, Any]:
    items = ok(http.get("/v1/operations", params={"kind": "cloneEnvironment", "limit": 1}))["items"]
    assert len(items) == 1, items
    op: dict[str, Any] = items[0]
    return op


def epm_body(target: LiveServer, password: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"targetURL": target.url, "targetUserName": ADMIN, "targetEncryptPassword": b64(password)}
    if parameters is not None:
        body["parameters"] = parameters
    return body


def check_started(body: dict[str, Any], source: LiveServer) -> None:
    """The document's "Example Response Body (Initiate Clone)", with the source's own base URL."""
    assert body == {
        "links": [{"rel": "Job Status", "href": source.url + STATUS, "data": None, "action": "GET"}],
        "details": None,
        "status": -1,
        "items": None,
        "intermittentStatus": None,
    }, body
    assert list(body["links"][0]) == ["rel", "href", "data", "action"]


def check_in_progress(body: dict[str, Any]) -> None:
    """The document's "In Progress" example: every key present, cloneCompletedTime null."""
    assert set(body) == STATUS_KEYS, body
    assert (body["details"], body["items"], body["links"], body["cloneCompletedTime"]) == (None, None, None, None)
    shown = body["intermittentStatus"] or []
    assert all(len(step) == 1 for step in shown), body
    names = [next(iter(step)) for step in shown]
    assert names[: len(DOCUMENTED)] == list(DOCUMENTED[: len(names)]), body
    # A step may show Failed a moment before the clone's own status turns positive.
    values = [next(iter(step.values())) for step in shown]
    assert all(v in ("Success", "In Progress", "NA") for v in values[:-1]), body
    assert all(v in ("Success", "In Progress", "NA", "Failed") for v in values[-1:]), body
    details = body["statusDetails"] or []
    results = {"Success": "success", "In Progress": "inProgress", "NA": "NA", "Failed": "failed"}
    assert [d["result"] for d in details] == [results[v] for v in values], body


def poll_status(
    http: httpx.Client,
    deadline: float = DEADLINE,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """GET the clone status until it is no longer -1 (bounded); each in-progress body is checked."""
    end = time.monotonic() + deadline
    while True:
        body: dict[str, Any] = ok(http.get(STATUS, headers=headers))
        if body["status"] != -1:
            return body
        check_in_progress(body)
        assert time.monotonic() < end, f"the clone is still running after {deadline}s: {body}"
        time.sleep(0.1)  # pacing only: the loop ends on the clone's own status


def check_succeeded(body: dict[str, Any], marks: dict[str, str] | None = None) -> None:
    """The document's "Completed Successfully" example: status 0, times set, the documented steps
    first and in order, "Migration status" last, and statusDetails matching intermittentStatus."""
    assert set(body) == STATUS_KEYS, body
    assert (body["details"], body["status"], body["items"], body["links"]) == (None, 0, None, None), body
    assert isinstance(body["backupName"], str) and body["backupName"], body
    for key in ("backupCreatedTime", "cloneStartTime", "cloneCompletedTime"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body[key]), (key, body)
    assert body["cloneStartTime"] <= body["cloneCompletedTime"], body
    shown = body["intermittentStatus"]
    assert all(len(step) == 1 for step in shown), body
    names = [next(iter(step)) for step in shown]
    assert shown[: len(DOCUMENTED)] == [{name: "Success"} for name in DOCUMENTED], body
    assert shown[-1] == {MIGRATION: "Success"}, body
    assert names[len(DOCUMENTED) : -1] == list(OPTION_STEPS.values()), body
    assert all(v in ("Success", "NA") for step in shown for v in step.values()), body
    assert body["statusDetails"] == [
        {"message": name, "result": {"Success": "success", "NA": "NA"}[step[name]]}
        for name, step in zip(names, shown, strict=True)
    ], body
    for option, mark in (marks or {}).items():
        assert {OPTION_STEPS[option]: mark} in shown, (option, mark, body)


def check_failed(body: dict[str, Any], step: str, code: int | None) -> str:
    """A clone that stopped at ``step``: positive status, English details, the steps before it
    Success, that one Failed, none after it shown; cloneCompletedTime null. Returns details."""
    assert set(body) == STATUS_KEYS, body
    assert isinstance(body["status"], int) and body["status"] > 0, body
    assert code is None or body["status"] == code, body
    assert body["cloneCompletedTime"] is None and body["items"] is None, body
    details = body["details"]
    assert isinstance(details, str) and PRINTABLE_ASCII.match(details), body
    at = DOCUMENTED.index(step) if step in DOCUMENTED else len(DOCUMENTED)
    assert body["intermittentStatus"] == [{name: "Success"} for name in DOCUMENTED[:at]] + [{step: "Failed"}], body
    failed = body["statusDetails"][-1]
    assert failed["result"] == "failed" and failed["message"] == step, body
    return details


def can_log_in(server: LiveServer, password: str, user: str = ADMIN) -> bool:
    with server.client(user, password) as http:
        response = http.get("/v1/auth/whoami")
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200
