"""What an audit of the EPM dialect against the two vendor documents (Clone an Environment,
Restore Environment) found, each shown against real servers: the options the parameter tables
list as payload fields, accepted beside ``parameters`` as well as under it; null meaning "not
given"; the restore's required roles; and its job-status path, which reports restores only and
answers every job id with an EPM error rather than an internal one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.builders import make_user
from tests.conftest import BACKENDS, LiveServer, database_url
from tests.e2e.client import (
    MAINTENANCE_HREF,
    MAINTENANCE_STEPS,
    PREFIX,
    RESTORE,
    completed,
    digests,
    epm_error,
    job_link,
    ok,
    operation_ids,
    poll,
    started,
)
from tests.e2e.clone import CLONE, check_started, check_succeeded, epm_body, latest_clone, poll_status
from tests.e2e.conftest import TARGET_PASSWORD, ServerPair, Servers


# --- fixtures ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    backup: str  # an Environment Backup made by daily maintenance
    maintenance_job: int  # the job number of that daily maintenance


@pytest.fixture(scope="module", params=BACKENDS)
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One empty server per backend with one daily maintenance run (so one Environment Backup)."""
    tmp = tmp_path_factory.mktemp(f"audit-{request.param}")
    server = LiveServer(tmp / "data", database_url(request.param, tmp, request)).start()
    try:
        with server.client() as http:
            body = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance"))
            href, job = job_link(body, server, MAINTENANCE_HREF)
            assert poll(http, href, MAINTENANCE_STEPS)["status"] == 0
            backup = ok(http.get(f"/v1/operations/{job}"))["result"]["environmentBackup"]
            yield Env(server, http, backup, job)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pair(servers: Servers) -> ServerPair:
    """A source without the demo content: the clones here are about options, not content."""
    return servers.pair(demo=False)


def restored(env: Env, payload: dict[str, Any]) -> dict[str, Any]:
    href, _ = started(ok(env.http.post(RESTORE, json=payload)), env.server)
    return poll(env.http, href)


def cloned(pair: ServerPair, body: dict[str, Any], http: httpx.Client | None = None) -> dict[str, Any]:
    """Start a clone with ``body`` (as ``http``, the admin by default); return its final status."""
    check_started(ok((http or pair.src).post(CLONE, json=body)), pair.source)
    return poll_status(pair.src)


def options_used(pair: ServerPair) -> dict[str, bool | None]:
    options: dict[str, bool | None] = latest_clone(pair.src)["result"]["options"]
    return options


# --- Restore Environment: options beside "parameters", and null --------------------------------------
# Table 2-191 lists usersAndPreDefinedRoles, dailyMaintenanceStartTime and storedSnapshotsAndFiles as
# payload fields next to backupName; the sample nests them under "parameters". Given beside it they
# were silently ignored (the defaults applied instead).
RESTORE_FORMS: dict[str, tuple[dict[str, Any], dict[str, bool]]] = {
    "beside": (
        {"storedSnapshotsAndFiles": "true", "dailyMaintenanceStartTime": False},
        {"users": False, "files": True, "start_time": False},
    ),
    "nested-wins": (
        {"storedSnapshotsAndFiles": True, "parameters": {"storedSnapshotsAndFiles": "false"}},
        {"users": False, "files": False, "start_time": True},
    ),
    "parameters-null": ({"parameters": None}, {"users": False, "files": False, "start_time": True}),
    "options-null": (
        {"parameters": {"usersAndPreDefinedRoles": None, "dailyMaintenanceStartTime": None}},
        {"users": False, "files": False, "start_time": True},
    ),
}


@pytest.mark.parametrize("form", list(RESTORE_FORMS))
def test_restore_options_beside_parameters_and_null(audited: Env, form: str) -> None:
    extra, expected = RESTORE_FORMS[form]
    assert restored(audited, {"backupName": audited.backup, **extra}) == completed(**expected)


# --- Restore Environment: the job-status path ------------------------------------------------------
def test_restore_status_of_another_kind_of_job_is_not_found(audited: Env) -> None:
    """The daily maintenance's job number under /restoreenvironment/status/ was rendered as a
    restore: "Environment backup restored successfully", with maintenance's steps."""
    details = epm_error(audited.http.get(f"{RESTORE}/status/{audited.maintenance_job}"), 404, 8)
    assert str(audited.maintenance_job) in details


@pytest.mark.parametrize(
    ("job_id", "http_status", "code"),
    [
        ("1776935926050", 404, 8),  # the document's sample job id: no such job here
        (str(2**63), 404, 8),  # beyond 64 bits: was a 500 "unexpected error"
        ("9" * 25, 404, 8),
        ("\u00b2", 422, 2),  # a superscript two is "a digit" to str.isdigit(): was a 500
        ("\u0661\u0662", 422, 2),  # Arabic-Indic digits: were read as job 12
    ],
    ids=["sample-id", "2**63", "25-digits", "superscript", "arabic-indic"],
)
def test_restore_status_job_ids(audited: Env, job_id: str, http_status: int, code: int) -> None:
    epm_error(audited.http.get(f"{RESTORE}/status/{job_id}"), http_status, code)


def test_maintenance_and_restore_backup_status_paths_answer_only_their_own_jobs(audited: Env) -> None:
    """Each job-status path renders its own kind of job: a verify's number is not found there, and
    odd ids are an EPM error, not an internal one."""
    name = quote(audited.backup, safe="")
    verify = ok(audited.http.post(f"/v1/backups/{name}/verify"), 202)["number"]
    maintenance_status = f"{PREFIX}/v2/maintenance/rundailymaintenance/status"
    assert ok(audited.http.get(f"{maintenance_status}/{audited.maintenance_job}"))["status"] == 0
    epm_error(audited.http.get(f"{maintenance_status}/{verify}"), 404, 8)
    backup_status = f"{PREFIX}/v2/backups/restore/status"
    epm_error(audited.http.get(f"{backup_status}/{verify}"), 404, 8)
    for path in (maintenance_status, backup_status):
        epm_error(audited.http.get(f"{path}/\u00b2"), 422, 2)
        epm_error(audited.http.get(f"{path}/{2**63}"), 404, 8)


# --- Restore Environment: required roles -------------------------------------------------------------
@pytest.mark.parametrize(
    "roles",
    [("Migrations - Administer",), ("Migrations - Administer", "Identity Domain Administrator")],
    ids=["granular-only", "granular-and-identity"],
)
def test_migrations_administer_without_an_application_role_may_not_restore(
    audited: Env, roles: tuple[str, ...]
) -> None:
    """ "Required Roles: Service Administrator; Any application role and Migrations - Administer
    granular role": the granular role alone was let through."""
    http, server = audited.http, audited.server
    login, password = make_user(http, *roles)
    before, ops = digests(http), operation_ids(http)
    with server.client(login, password) as caller:
        details = epm_error(caller.post(RESTORE, json={"backupName": audited.backup}), 403, 7)
    assert login in details and "application role" in details, details
    assert digests(http) == before and operation_ids(http) == ops


# --- Clone an Environment: options beside "parameters", and null ------------------------------------
# Table 2-174 lists every option next to targetURL; the example payload nests them under "parameters".
CLONE_FORMS: dict[str, tuple[dict[str, Any], dict[str, bool]]] = {
    "beside": (
        {"storedSnapshotsAndFiles": "true", "dataManagement": False, "maintenanceStartTime": "false"},
        {"storedSnapshotsAndFiles": True, "dataManagement": False, "maintenanceStartTime": False},
    ),
    "nested-wins": (
        {"storedSnapshotsAndFiles": True, "jobConsole": False, "parameters": {"storedSnapshotsAndFiles": False}},
        {"storedSnapshotsAndFiles": False, "jobConsole": False},
    ),
    "parameters-null": ({"parameters": None}, {}),
    "options-null": (
        {"parameters": {"dataManagement": None, "snapshotName": None, "jobConsole": False}},
        {"jobConsole": False},
    ),
}
CLONE_DEFAULTS = {
    "migrateUsers": False,
    "dataManagement": True,
    "jobConsole": True,
    "applicationAudit": True,
    "storedSnapshotsAndFiles": False,
    "maintenanceStartTime": True,
    "appProperties": None,  # does not apply to Planning
}


@pytest.mark.parametrize("form", list(CLONE_FORMS))
def test_clone_options_beside_parameters_and_null(pair: ServerPair, form: str) -> None:
    extra, expected = CLONE_FORMS[form]
    body = {**epm_body(pair.target, TARGET_PASSWORD), **extra}
    final = cloned(pair, body)
    options = {**CLONE_DEFAULTS, **expected}
    assert options_used(pair) == options
    check_succeeded(final, {name: "Success" if on else "NA" for name, on in options.items()})


def test_migrations_administer_alone_may_clone(pair: ServerPair) -> None:
    """The clone document asks for Service Administrator or Migrations - Administer: the restore's
    stricter rule must not reach it."""
    login, password = make_user(pair.src, "Migrations - Administer")
    with pair.source.client(login, password) as caller:
        final = cloned(pair, epm_body(pair.target, TARGET_PASSWORD, {"migrateUsers": False}), caller)
    check_succeeded(final)
    assert latest_clone(pair.src)["created_by"] == login
