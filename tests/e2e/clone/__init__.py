"""Clone an Environment between two real envclone servers on loopback: what the EPM, native and CLI
scenarios share (servers started once per module, polling, digests, the documented step names)."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, database_url

PREFIX = "/interop/rest"
CLONE = f"{PREFIX}/v1/services/clone"
STATUS = f"{PREFIX}/v1/services/clone/status"
DEADLINE = 90.0
TERMINAL = ("succeeded", "failed", "cancelled")

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
COMPONENTS = (
    "artifacts",
    "users",
    "configuration",
    "jobs",
    "jobConsole",
    "applicationAudit",
    "dataManagement",
    "files",
    "settings",
)
RECORD_KINDS = ("dataManagement", "jobConsole", "applicationAudit")
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
ERROR_KEYS = {"details", "status", "items", "links"}
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")
# The target's own admin password: never the source's, so that a leak or a migrated user shows.
TARGET_PASSWORD = "Tgt-" + uuid.uuid4().hex[:12] + "-s3cret"


def tag() -> str:
    return uuid.uuid4().hex[:10]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def digests(http: httpx.Client) -> dict[str, str]:
    body: dict[str, str] = ok(http.get("/v1/environment/digest"))["components"]
    assert set(body) == set(COMPONENTS), body
    return body


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


def all_operation_ids(http: httpx.Client) -> set[str]:
    return {op["id"] for op in ok(http.get("/v1/operations", params={"limit": 1000}))["items"]}


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


def wait_operation(http: httpx.Client, op_id: str, deadline: float = DEADLINE) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while True:
        op: dict[str, Any] = ok(http.get(f"/v1/operations/{op_id}"))
        if op["status"] in TERMINAL:
            return op
        assert time.monotonic() < end, f"operation {op_id} still {op['status']} after {deadline}s"
        time.sleep(0.1)


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


def epm_error(response: httpx.Response, http_status: int) -> str:
    """Oracle's error shape: positive status, English details, items null; returns details."""
    assert response.status_code == http_status, f"{response.request.url}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["status"], int) and body["status"] > 0, body
    assert body["items"] is None, body
    details = body["details"]
    assert isinstance(details, str) and PRINTABLE_ASCII.match(details), body
    return details


def give_own_content(http: httpx.Client, *, start_time: str | None = None) -> str:
    """Content of an environment's own in every component: a project, a configuration object, a
    job, a record of each kind, an inbox file, a user, and (optionally) a maintenance start time.
    Returns the tag used in their names."""
    mark = tag()
    ok(http.post("/v1/projects", json={"name": f"own-{mark}"}), 201)
    ok(http.post("/v1/configuration-objects", json={"type": 44, "name": f"own-{mark}"}), 201)
    ok(http.post("/v1/jobs", json={"name": f"own-{mark}", "job_type": "Backup"}), 201)
    for kind in RECORD_KINDS:
        item = {"actor": "target", "action": f"own-{mark}", "subject": kind}
        ok(http.post(f"/v1/records/{kind}", json={"items": [item]}), 201)
    ok(http.put(f"/v1/files/inbox/own-{mark}.csv", content=f"Account,Amount\n{mark},1\n".encode()), 201)
    ok(http.post("/v1/users", json={"login": f"own-{mark}", "password": f"Pw-{mark}"}), 201)
    if start_time:
        ok(http.patch("/v1/settings", json={"maintenance_start_time": start_time}))
    return mark


def add_user(http: httpx.Client, roles: Iterable[str]) -> tuple[str, str]:
    login, password = f"u-{tag()}", f"Pw-{tag()}-secret"
    ok(http.post("/v1/users", json={"login": login, "password": password}), 201)
    for role in roles:
        assignment = {"principal_kind": "user", "principal_name": login, "role_name": role}
        ok(http.post("/v1/role-assignments", json=assignment), 201)
    return login, password


def can_log_in(server: LiveServer, password: str, user: str = ADMIN) -> bool:
    with server.client(user, password) as http:
        response = http.get("/v1/auth/whoami")
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


class Servers:
    """Servers a whole test module shares (conftest's make_server is per test): started on demand,
    stopped at the end of the module."""

    def __init__(self, request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> None:
        self.request, self.factory = request, factory
        self.started: list[LiveServer] = []

    def start(
        self,
        backend: str = "sqlite",
        *,
        password: str = ADMIN_PASSWORD,
        demo: bool = False,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        db_url: str | None = None,
    ) -> LiveServer:
        tmp = self.factory.mktemp(f"clone-{backend}")
        extra = {"ENVCLONE_ADMIN_PASSWORD": password, **(env or {})}
        server = LiveServer(
            data_dir or tmp / "data",
            db_url or database_url(backend, tmp, self.request),
            extra_env=extra,
            args=("--demo",) if demo else (),
        )
        self.started.append(server)
        return server.start()

    def restart(self, server: LiveServer) -> LiveServer:
        """A new server process on the same data directory and database (a new port)."""
        again = LiveServer(server.data_dir, server.database_url, extra_env=_extra_env(server))
        self.started.append(again)
        return again.start()

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


def _extra_env(server: LiveServer) -> dict[str, str]:
    return {k: v for k, v in server.env.items() if k.startswith("ENVCLONE_") and k != "ENVCLONE_DATABASE_URL"}


def sqlite_bytes(server: LiveServer) -> bytes:
    """The SQLite database file of a server, with its write-ahead log, as raw bytes."""
    path = Path(server.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())
