"""What end-to-end tests use to talk to a real server and watch it: response checks, digests,
waiting for operations and EPM jobs, EPM uploads, and probes of the server's database. Checks the
shapes every dialect shares; a scenario's own expectations stay in its test module."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from envclone.api.epm.schemas import JobStatus
from envclone.api.native.schemas import Operation
from tests.builders import COMPONENTS
from tests.conftest import LiveServer

DEADLINE = 60.0
TERMINAL = ("succeeded", "failed", "cancelled")
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")


# --- the native API -------------------------------------------------------------------------------
def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``, or None if it has no body."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def error_of(response: httpx.Response) -> tuple[int, str]:
    """A native error's HTTP status and stable code."""
    return response.status_code, response.json()["error"]["code"]


def digest(http: httpx.Client) -> dict[str, Any]:
    """The environment digest and one digest per component."""
    body: dict[str, Any] = ok(http.get("/v1/environment/digest"))
    assert set(body["components"]) == set(COMPONENTS), body
    return body


def digests(http: httpx.Client) -> dict[str, str]:
    """One digest per component."""
    body: dict[str, str] = digest(http)["components"]
    return body


def operation_ids(http: httpx.Client) -> set[str]:
    return {op["id"] for op in ok(http.get("/v1/operations", params={"limit": 1000}))["items"]}


def wait_operation(http: httpx.Client, op_id: str, deadline: float = DEADLINE) -> dict[str, Any]:
    """GET an operation until it ends (bounded); returns it."""
    end = time.monotonic() + deadline
    while True:
        op: dict[str, Any] = ok(http.get(f"/v1/operations/{op_id}"))
        Operation.model_validate(op)  # in every state, the shape /openapi.json declares
        if op["status"] in TERMINAL:
            return op
        assert time.monotonic() < end, f"operation {op_id} still {op['status']} after {deadline}s"
        time.sleep(0.05)  # pacing only: the loop ends on the operation's own status


# --- the EPM dialect ------------------------------------------------------------------------------
PREFIX = "/interop/rest"
FILES = f"{PREFIX}/11.1.2.3.600/applicationsnapshots"
RESTORE = f"{PREFIX}/v1/services/restoreenvironment"
ERROR_KEYS = {"details", "status", "items", "links"}
RESTORE_HREF = re.compile(r"/interop/rest/v1/services/restoreenvironment/status/(\d+)$")
MAINTENANCE_HREF = re.compile(r"/interop/rest/v2/maintenance/rundailymaintenance/status/(\d+)$")
RESTORE_STEP = "Restoring Environment Backup"
USERS_STEP = "Importing users and predefined roles"
FILES_STEP = "Uploading stored snapshots and files"
MAINTENANCE_STEP = "Setting daily maintenance start time to that of the backup"
RESTORE_STEPS = (RESTORE_STEP, USERS_STEP, FILES_STEP, MAINTENANCE_STEP)
MAINTENANCE_STEPS = ("Creating Artifact Snapshot", "Creating Environment Backup", "Applying the retention policy")
RESTORED_OK = "Environment backup restored successfully"


def epm_error(response: httpx.Response, http_status: int, code: int | None = None) -> str:
    """Oracle's error shape: details (English), a positive status (``code`` if given), items null,
    links; returns details."""
    assert response.status_code == http_status, f"{response.request.url}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["status"], int) and body["status"] > 0, body
    assert code is None or body["status"] == code, body
    assert body["items"] is None and isinstance(body["links"], list), body
    details = body["details"]
    assert isinstance(details, str) and PRINTABLE_ASCII.match(details), body
    if http_status == 401:
        assert "basic" in response.headers.get("www-authenticate", "").lower()
    return details


def upload(http: httpx.Client, name: str, data: bytes, **extra: Any) -> httpx.Response:
    """Upload ``data`` to /applicationsnapshots in one chunk."""
    q = {"q": json.dumps({"isFirst": True, "isLast": True, "chunkSize": len(data), "fileSize": len(data), **extra})}
    headers = {"content-type": "application/octet-stream"}
    return http.post(f"{FILES}/{quote(name, safe='')}/contents", params=q, content=data, headers=headers)


def job_link(body: dict[str, Any], server: LiveServer, pattern: re.Pattern[str]) -> tuple[str, int]:
    """The single "Job Status" link of a just-started job, pointing back at this server."""
    assert len(body["links"]) == 1, body
    link = body["links"][0]
    assert set(link) == {"href", "action", "rel", "data"}, link
    assert (link["rel"], link["action"], link["data"]) == ("Job Status", "GET", None), link
    found = pattern.search(link["href"])
    assert found and link["href"].startswith(server.url + PREFIX), link["href"]
    return link["href"], int(found.group(1))


def wait_job(
    http: httpx.Client, href: str, steps: tuple[str, ...] | None = None, deadline: float = 120.0
) -> dict[str, Any]:
    """GET a job-status link until its status is no longer -1 (bounded). Given the job's ``steps``,
    every in-progress body is checked against the documents' "In Progress" example on the way."""
    end = time.monotonic() + deadline
    while True:
        body: dict[str, Any] = ok(http.get(href))
        JobStatus.model_validate(body)  # in every state, the shape /openapi.json declares
        if body["status"] != -1:
            return body
        if steps is not None:
            assert body.get("details") in ("", None) and body["items"] is None and body["links"] is None, body
            shown = body.get("intermittentStatus") or []
            keys = [next(iter(step)) for step in shown]
            assert all(len(step) == 1 for step in shown) and keys == [s for s in steps if s in keys], body
            # "Failed" may show for a moment before the job's own status turns final.
            assert all(v in ("In Progress", "Success", "NA", "Failed") for step in shown for v in step.values()), body
        assert time.monotonic() < end, f"{href} still running after {deadline}s: {body}"
        time.sleep(0.05)  # pacing only: the loop ends on the job's own status


def poll(http: httpx.Client, href: str, steps: tuple[str, ...] = RESTORE_STEPS) -> dict[str, Any]:
    """Wait for a restore (or, given its steps, another job) with every in-progress body checked."""
    return wait_job(http, href, steps, DEADLINE)


def run_maintenance(http: httpx.Client, server: LiveServer) -> dict[str, Any]:
    """Run daily maintenance now (EPM v2) and wait for it; returns the operation's result."""
    body = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance"))
    assert (body["status"], body["details"]) == (-1, None), body
    href, job = job_link(body, server, MAINTENANCE_HREF)
    final = wait_job(http, href, MAINTENANCE_STEPS)
    assert final == {
        "details": None,
        "status": 0,
        "items": None,
        "links": None,
        "intermittentStatus": [{step: "Success"} for step in MAINTENANCE_STEPS],
    }
    result: dict[str, Any] = ok(http.get(f"/v1/operations/{job}"))["result"]
    return result


def started(body: dict[str, Any], server: LiveServer) -> tuple[str, int]:
    """Check a restore's first response against "Example of Response Body"; return (href, job id)."""
    assert set(body) == ERROR_KEYS | {"intermittentStatus"}, body
    assert (body["details"], body["status"], body["items"], body["intermittentStatus"]) == (None, -1, None, None)
    return job_link(body, server, RESTORE_HREF)


def completed(*, users: bool, files: bool, start_time: bool) -> dict[str, Any]:
    """A restore's final status body, for the options it ran with."""

    def mark(on: bool) -> str:
        return "Success" if on else "NA"

    return {
        "details": RESTORED_OK,
        "status": 0,
        "items": None,
        "links": None,
        "intermittentStatus": [
            {RESTORE_STEP: "Success"},
            {USERS_STEP: mark(users)},
            {FILES_STEP: mark(files)},
            {MAINTENANCE_STEP: mark(start_time)},
        ],
    }


def recorded_digests(http: httpx.Client, backup: str) -> dict[str, str]:
    """The component digests a backup recorded when it was taken."""
    recorded: dict[str, str] = ok(http.get(f"/v1/backups/{backup}"))["digests"]
    assert set(recorded) == set(COMPONENTS)
    return recorded


# --- the server's database ------------------------------------------------------------------------
def sqlite_write_locked(db_url: str) -> bool:
    """Whether some transaction holds the SQLite database's write lock right now."""
    probe = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def restore_transaction_open(db_url: str) -> bool:
    """Whether a transaction that replaces content is open in the database right now: on SQLite the
    write lock is held; on PostgreSQL some session holds a write lock on metadata_objects."""
    if db_url.startswith("sqlite"):
        return sqlite_write_locked(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            held = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' "
                "AND relation = 'metadata_objects'::regclass AND pid <> pg_backend_pid()"
            ).scalar()
            return bool(held)
    finally:
        engine.dispose()


def wait_restore_transaction(http: httpx.Client, href: str, db_url: str) -> None:
    """Wait until the running restore's transaction is seen open three probes in a row, so that
    what the test does next meets it."""
    end, seen = time.monotonic() + DEADLINE, 0
    while seen < 3:
        assert time.monotonic() < end, "the restore's transaction was never seen"
        assert ok(http.get(href))["status"] == -1, "the restore ended before its transaction was seen"
        seen = seen + 1 if restore_transaction_open(db_url) else 0
        time.sleep(0.01)  # pacing only


def sqlite_bytes(server: LiveServer) -> bytes:
    """The SQLite database file of a server, with its write-ahead log, as raw bytes."""
    path = Path(server.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())
