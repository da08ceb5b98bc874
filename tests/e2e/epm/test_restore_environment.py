"""Restore Environment (EPM REST API, ``POST /interop/rest/v1/services/restoreenvironment``) against real
servers on SQLite and PostgreSQL: the document's sample payload and cURL command run verbatim, the
response and job-status bodies exactly as documented, content really coming back (component digests
equal to the ones recorded in the backup), each option's effect, the required roles, and every error
case in Oracle's error shape with the environment left unchanged."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.builders import COMPONENTS, RECORD_KINDS, make_user, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, BACKENDS, LiveServer
from tests.e2e.client import (
    PREFIX,
    RESTORE,
    completed,
    digests,
    epm_error,
    ok,
    operation_ids,
    poll,
    recorded_digests,
    run_maintenance,
    started,
    wait_restore_transaction,
)
from tests.e2e.conftest import seeded_server

# Restored whatever the options say.
CORE = ("artifacts", "configuration", "jobs", *RECORD_KINDS)

# --- the document's samples, character for character ------------------------------------------------
SAMPLE_BACKUP = "2026-04-23T08:48:06/Environment_Backup"
SAMPLE_PAYLOAD = """{
"backupName": "2026-04-23T08:48:06/Environment_Backup",
"parameters": {
"usersAndPreDefinedRoles": "false",
"storedSnapshotsAndFiles": "true",
"dailyMaintenanceStartTime": "true"
}
}"""
CURL_BACKUP = "2026-03-15T06:40:34/Environment_Backup"
CURL_BODY = (
    '{ "backupName": "2026-03-15T06:40:34/Environment_Backup", "parameters": { "usersAndPreDefinedRoles": false, '
    '"dailyMaintenanceStartTime": true, "storedSnapshotsAndFiles": false } }'
)
# "Example of Response Body (Completed Successfully)", for the sample payload's options.
DOCUMENTED_COMPLETION: dict[str, Any] = {
    "details": "Environment backup restored successfully",
    "status": 0,
    "items": None,
    "links": None,
    "intermittentStatus": [
        {"Restoring Environment Backup": "Success"},
        {"Importing users and predefined roles": "NA"},
        {"Uploading stored snapshots and files": "Success"},
        {"Setting daily maintenance start time to that of the backup": "Success"},
    ],
}


# --- helpers ----------------------------------------------------------------------------------------
def restore(http: httpx.Client, server: LiveServer, payload: dict[str, Any]) -> dict[str, Any]:
    href, _ = started(ok(http.post(RESTORE, json=payload)), server)
    return poll(http, href)


def start_time(http: httpx.Client) -> tuple[str, str]:
    body = ok(http.get(f"{PREFIX}/v2/maintenance/getdailymaintenancestarttime"))
    return body["dailyMaintenanceStartTime"], body["timeZone"]


def set_start_time(http: httpx.Client, value: str) -> None:
    ok(http.put(f"{PREFIX}/v2/maintenance/setdailymaintenancestarttime", json={"startTime": value}))


def differing(a: dict[str, str], b: dict[str, str]) -> set[str]:
    return {name for name in COMPONENTS if a[name] != b[name]}


@dataclass(frozen=True)
class Changes:
    """What ``change_everything`` did after a backup, to check each piece afterwards."""

    project: str
    edited_project: str
    edited_object: str
    object_name: str
    login: str
    new_file: str
    deleted_file: str
    deleted_hash: str
    theme: str


def change_everything(http: httpx.Client) -> Changes:
    """Change every component: add, edit and delete, through the native API."""
    seeded = ok(http.get("/v1/projects", params={"limit": 1}))["items"][0]["id"]
    obj = ok(http.get(f"/v1/projects/{seeded}/objects", params={"limit": 1}))["items"][0]
    ok(http.patch(f"/v1/projects/{seeded}/objects/{obj['id']}", json={"name": f"edited {tag()}"}))
    project = ok(http.post("/v1/projects", json={"name": f"after-backup-{tag()}"}), 201)["id"]
    ok(http.post(f"/v1/projects/{project}/objects", json={"type": 55, "name": "Late form"}), 201)
    login, _ = make_user(http, "Viewer")
    ok(http.post("/v1/configuration-objects", json={"type": 44, "name": f"cfg-{tag()}"}), 201)
    ok(http.post("/v1/jobs", json={"name": f"job-{tag()}", "job_type": "Backup"}), 201)
    for kind in RECORD_KINDS:
        ok(http.post(f"/v1/records/{kind}", json={"items": [{"actor": "admin", "action": f"late-{tag()}"}]}), 201)
    new_file = f"late-{tag()}.csv"
    ok(http.put(f"/v1/files/inbox/{new_file}", content=b"Account,Amount\n" + os.urandom(2048)), 201)
    victim = ok(http.get("/v1/files/outbox", params={"limit": 1}))["items"][0]
    assert http.delete(f"/v1/files/outbox/{victim['name']}").status_code == 204
    settings = ok(http.get("/v1/settings"))
    ok(http.patch("/v1/settings", json={"theme": f"theme-{tag()}"}))
    theme = settings["theme"]
    return Changes(project, seeded, obj["id"], obj["name"], login, new_file, victim["name"], victim["hash"], theme)


# --- fixtures ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    first_backup: str  # taken right after start, before any maintenance start time was set


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One server per backend, seeded (size small) directly before it starts, with one backup."""
    # Every test takes its own backups; keep them all, the first one included.
    keep_all = {"ENVCLONE_BACKUP_RETENTION": "1000"}
    with (
        seeded_server(request, tmp_path_factory, "restore", request.param, **keep_all) as server,
        server.client() as http,
    ):
        yield Env(server, http, run_maintenance(http, server)["environmentBackup"])


# --- the document's samples -------------------------------------------------------------------------
def test_sample_request_payload_verbatim(env: Env) -> None:
    http, server = env.http, env.server
    assert env.first_backup in ok(http.get(f"{PREFIX}/v2/backups/list"))["items"]
    payload = SAMPLE_PAYLOAD.replace(SAMPLE_BACKUP, env.first_backup)
    assert payload != SAMPLE_PAYLOAD
    response = http.post(RESTORE, content=payload.encode(), headers={"Content-Type": "application/json"})
    href, _ = started(ok(response), server)
    assert poll(http, href) == DOCUMENTED_COMPLETION
    # The job's status stays readable, and the same, once it has ended.
    assert ok(http.get(href)) == DOCUMENTED_COMPLETION


def curl(server: LiveServer, backup: str, *auth: str) -> dict[str, Any]:
    """The document's cURL command, with only the host and the backup name changed."""
    body = CURL_BODY.replace(CURL_BACKUP, backup)
    assert body != CURL_BODY
    command = ["curl", "-s", *auth, "-H", "Content-Type: application/json", "--request", "POST"]
    command += [f"{server.url}{RESTORE}", "-d", body]
    done = subprocess.run(command, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_curl_sample_with_basic_auth(env: Env) -> None:
    href, _ = started(curl(env.server, env.first_backup, "-u", f"{ADMIN}:{ADMIN_PASSWORD}"), env.server)
    assert poll(env.http, href) == completed(users=False, files=False, start_time=True)


def test_curl_sample_with_a_bearer_token(env: Env) -> None:
    token = ok(env.http.post("/v1/auth/token", json={"username": ADMIN, "password": ADMIN_PASSWORD}))
    assert token["token_type"] == "Bearer"
    header = f"Authorization: Bearer {token['access_token']}"
    href, _ = started(curl(env.server, env.first_backup, "-H", header), env.server)
    assert poll(env.http, href) == completed(users=False, files=False, start_time=True)


# --- content really comes back ----------------------------------------------------------------------
def test_restore_brings_content_back_and_keeps_users_files_and_start_time(env: Env) -> None:
    http, server = env.http, env.server
    set_start_time(http, "05:00")
    backup = run_maintenance(http, server)["environmentBackup"]
    recorded = recorded_digests(http, backup)
    assert recorded == digests(http)
    changes = change_everything(http)
    set_start_time(http, "07:00")
    before = digests(http)
    assert differing(before, recorded) == set(COMPONENTS)

    options = {"usersAndPreDefinedRoles": False, "storedSnapshotsAndFiles": False, "dailyMaintenanceStartTime": False}
    final = restore(http, server, {"backupName": backup, "parameters": options})
    assert final == completed(users=False, files=False, start_time=False)

    after = digests(http)
    assert {name: after[name] for name in CORE} == {name: recorded[name] for name in CORE}
    assert (after["users"], after["files"]) == (before["users"], before["files"])
    assert start_time(http)[0] == "07:00"
    assert http.get(f"/v1/projects/{changes.project}").status_code == 404
    edited = ok(http.get(f"/v1/projects/{changes.edited_project}/objects/{changes.edited_object}"))
    assert edited["name"] == changes.object_name
    assert ok(http.get(f"/v1/users/{changes.login}"))["login"] == changes.login
    assert http.get(f"/v1/files/inbox/{changes.new_file}").status_code == 200
    assert http.get(f"/v1/files/outbox/{changes.deleted_file}").status_code == 404
    settings = ok(http.get("/v1/settings"))
    assert settings["theme"] == changes.theme
    # Everything else in settings came back: with the start time of the backup, the digests agree.
    set_start_time(http, "05:00")
    assert digests(http)["settings"] == recorded["settings"]


def test_restore_with_every_option_brings_everything_back(env: Env) -> None:
    http, server = env.http, env.server
    set_start_time(http, "05:00")
    backup = run_maintenance(http, server)["environmentBackup"]
    recorded = recorded_digests(http, backup)
    changes = change_everything(http)
    set_start_time(http, "07:00")
    assert differing(digests(http), recorded) == set(COMPONENTS)

    options = {"usersAndPreDefinedRoles": True, "storedSnapshotsAndFiles": True, "dailyMaintenanceStartTime": True}
    final = restore(http, server, {"backupName": backup, "parameters": options})
    assert final == completed(users=True, files=True, start_time=True)

    assert digests(http) == recorded
    assert start_time(http)[0] == "05:00"
    assert http.get(f"/v1/users/{changes.login}").status_code == 404
    assert http.get(f"/v1/files/inbox/{changes.new_file}").status_code == 404
    back = http.get(f"/v1/files/outbox/{changes.deleted_file}")
    assert back.status_code == 200 and back.headers["etag"] == f'"{changes.deleted_hash}"'
    edited = ok(http.get(f"/v1/projects/{changes.edited_project}/objects/{changes.edited_object}"))
    assert edited["name"] == changes.object_name


@pytest.mark.parametrize("value", [True, "true"])
def test_users_and_application_roles_is_accepted_as_the_newer_name(env: Env, value: object) -> None:
    http, server = env.http, env.server
    backup = run_maintenance(http, server)["environmentBackup"]
    recorded = recorded_digests(http, backup)
    login, _ = make_user(http, "Viewer")
    assert digests(http)["users"] != recorded["users"]
    final = restore(http, server, {"backupName": backup, "parameters": {"usersAndApplicationRoles": value}})
    assert final == completed(users=True, files=False, start_time=True)
    assert digests(http)["users"] == recorded["users"]
    assert http.get(f"/v1/users/{login}").status_code == 404


def test_start_time_is_kept_when_the_current_one_is_the_default(env: Env) -> None:
    """dailyMaintenanceStartTime false keeps the current start time and zone, also when they are the
    defaults (brought back by restoring the first backup) and the backup restored has other ones."""
    http, server = env.http, env.server
    # The first backup was taken before any start time was set: restoring it brings the defaults back.
    final = restore(http, server, {"backupName": env.first_backup, "parameters": {"dailyMaintenanceStartTime": True}})
    assert final["status"] == 0, final
    default = start_time(http)
    set_start_time(http, "04:00 America/Los_Angeles")
    explicit = run_maintenance(http, server)["environmentBackup"]
    restore(http, server, {"backupName": env.first_backup, "parameters": {"dailyMaintenanceStartTime": True}})
    assert start_time(http) == default
    final = restore(http, server, {"backupName": explicit, "parameters": {"dailyMaintenanceStartTime": False}})
    assert final == completed(users=False, files=False, start_time=False)
    assert start_time(http) == default, "the current (default) maintenance start time was not kept"


# --- roles ------------------------------------------------------------------------------------------
def test_viewer_may_not_restore(env: Env) -> None:
    http, server = env.http, env.server
    login, password = make_user(http, "Viewer")
    before, ops = digests(http), operation_ids(http)
    with server.client(login, password) as viewer:
        details = epm_error(viewer.post(RESTORE, json={"backupName": env.first_backup}), 403, 7)
    assert login in details
    assert digests(http) == before and operation_ids(http) == ops


def test_migrations_administer_with_an_application_role_may_restore(env: Env) -> None:
    http, server = env.http, env.server
    login, password = make_user(http, "Migrations - Administer", "Power User")
    backup = run_maintenance(http, server)["environmentBackup"]
    recorded = recorded_digests(http, backup)
    ok(http.post("/v1/projects", json={"name": f"late-{tag()}"}), 201)
    assert digests(http)["artifacts"] != recorded["artifacts"]
    with server.client(login, password) as migrator:
        href, _ = started(ok(migrator.post(RESTORE, json={"backupName": backup})), server)
        assert poll(migrator, href) == completed(users=False, files=False, start_time=True)
    assert digests(http)["artifacts"] == recorded["artifacts"]


@pytest.mark.parametrize(
    "roles",
    [("Migrations - Administer", "Power User"), ("Service Administrator",)],
    ids=["migrations-administer", "service-administrator"],
)
def test_restoring_users_needs_identity_domain_administrator(env: Env, roles: tuple[str, ...]) -> None:
    http, server = env.http, env.server
    login, password = make_user(http, *roles)
    before, ops = digests(http), operation_ids(http)
    payload = {"backupName": env.first_backup, "parameters": {"usersAndPreDefinedRoles": "true"}}
    with server.client(login, password) as caller:
        details = epm_error(caller.post(RESTORE, json=payload), 403, 7)
        assert "Identity Domain Administrator" in details
        newer = {"backupName": env.first_backup, "parameters": {"usersAndApplicationRoles": True}}
        epm_error(caller.post(RESTORE, json=newer), 403, 7)
    assert digests(http) == before and operation_ids(http) == ops
    assert ok(http.get(f"/v1/users/{login}"))["login"] == login


# --- errors -----------------------------------------------------------------------------------------
FR = {"Accept-Language": "fr-FR"}


@dataclass(frozen=True)
class Case:
    http_status: int
    code: int
    send: Callable[[Env], httpx.Response]
    mentions: str


def _post(payload: Callable[[Env], dict[str, Any]]) -> Callable[[Env], httpx.Response]:
    return lambda env: env.http.post(RESTORE, json=payload(env), headers=FR)


def _params(**options: object) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"backupName": env.first_backup, "parameters": options}


def _as(user: str, password: str | None, **headers: str) -> Callable[[Env], httpx.Response]:
    def send(env: Env) -> httpx.Response:
        auth = (user, password) if password is not None else None
        with httpx.Client(base_url=env.server.url, auth=auth, timeout=60) as client:
            return client.post(RESTORE, json={"backupName": env.first_backup}, headers={**FR, **headers})

    return send


UNKNOWN = "2000-01-01T00:00:00/Environment_Backup"
CASES: dict[str, Case] = {
    "unknown-backup": Case(404, 8, _post(lambda env: {"backupName": UNKNOWN}), UNKNOWN),
    "artifact-snapshot-name": Case(
        404,
        8,
        _post(lambda env: {"backupName": env.first_backup.replace("Environment_Backup", "Artifact_Snapshot.zip")}),
        "not found",
    ),
    "missing-backup-name": Case(
        422, 2, _post(lambda env: {"parameters": {"storedSnapshotsAndFiles": "true"}}), "backupName"
    ),
    "empty-backup-name": Case(422, 2, _post(lambda env: {"backupName": ""}), "backupName"),
    "malformed-json": Case(
        400,
        3,
        lambda env: env.http.post(
            RESTORE, content=b'{"backupName": "x", "parameters": {', headers={**FR, "Content-Type": "application/json"}
        ),
        "JSON",
    ),
    "empty-body": Case(
        400, 3, lambda env: env.http.post(RESTORE, headers={**FR, "Content-Type": "application/json"}), "JSON"
    ),
    "placeholder-value": Case(
        422, 2, _post(_params(usersAndPreDefinedRoles="<TRUE/FALSE>")), "usersAndPreDefinedRoles"
    ),
    "yes-files": Case(422, 2, _post(_params(storedSnapshotsAndFiles="yes")), "storedSnapshotsAndFiles"),
    "yes-start-time": Case(422, 2, _post(_params(dailyMaintenanceStartTime="yes")), "dailyMaintenanceStartTime"),
    "number-newer-name": Case(422, 2, _post(_params(usersAndApplicationRoles=1)), "usersAndApplicationRoles"),
    "no-credentials": Case(401, 6, _as(ADMIN, None), "credentials"),
    "wrong-password": Case(401, 6, _as(ADMIN, ADMIN_PASSWORD + "x"), "password"),
    "unknown-user": Case(401, 6, _as("nobody-" + "x" * 8, ADMIN_PASSWORD), "password"),
    "bad-bearer-token": Case(401, 6, _as(ADMIN, None, Authorization="Bearer not-a-token"), "token"),
    "unknown-job-id": Case(404, 8, lambda env: env.http.get(f"{RESTORE}/status/987654321", headers=FR), "987654321"),
    "non-numeric-job-id": Case(422, 2, lambda env: env.http.get(f"{RESTORE}/status/abc", headers=FR), "abc"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_refused_requests_change_nothing(env: Env, case: Case) -> None:
    before, ops = digests(env.http), operation_ids(env.http)
    details = epm_error(case.send(env), case.http_status, case.code)
    assert case.mentions.lower() in details.lower(), details
    assert digests(env.http) == before
    assert operation_ids(env.http) == ops


def wait_for_restore_transaction(env: Env, href: str) -> None:
    """On SQLite, wait until the running restore's long transaction holds the write lock, so that
    the second request meets it; on PostgreSQL nothing to wait for."""
    if env.server.database_url.startswith("sqlite"):
        wait_restore_transaction(env.http, href, env.server.database_url)


def test_second_restore_while_one_runs_is_refused(env: Env) -> None:
    http, server = env.http, env.server
    ok(http.post("/v1/projects", json={"name": f"other-{tag()}"}), 201)
    other = run_maintenance(http, server)["environmentBackup"]
    recorded = recorded_digests(http, env.first_backup)
    assert differing(recorded, recorded_digests(http, other))
    every = {"usersAndPreDefinedRoles": True, "storedSnapshotsAndFiles": True, "dailyMaintenanceStartTime": True}

    href, job = started(ok(http.post(RESTORE, json={"backupName": env.first_backup, "parameters": every})), server)
    wait_for_restore_transaction(env, href)
    asked = time.monotonic()
    refused = http.post(RESTORE, json={"backupName": other, "parameters": every}, headers=FR)
    waited = time.monotonic() - asked
    assert refused.status_code == 409, (
        f"a second restore asked while restore {job} was running was answered {refused.status_code} "
        f"after {waited:.2f}s: {refused.text}"
    )
    details = epm_error(refused, 409, 9)
    assert "try again" in details

    assert poll(http, href) == completed(users=True, files=True, start_time=True)
    op = ok(http.get(f"/v1/operations/{job}"))
    ran = (dt.datetime.fromisoformat(op["ended"]) - dt.datetime.fromisoformat(op["started"])).total_seconds()
    # The refusal is an answer about the running restore, not something that waits for it to end.
    assert waited < ran / 2, f"the 409 took {waited:.2f}s; the running restore took {ran:.2f}s"
    # Only the first restore happened.
    assert digests(http) == recorded
