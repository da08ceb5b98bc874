"""The native /v1 and CLI equivalents of the Veeam job actions, against a real server: clone a
job in envclone's own terms (the kind taken from the source when left out), run and stop it, list
its runs; the same rules and errors as the dialect's, in the native error shape; and the CLI's
cloneJob, runJob, stopJob and listJobRuns over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import error_of, ok, wait_operation
from tests.e2e.test_cli_epm_automate import expect, run_cli
from tests.e2e.veeam.em import make_job, make_repository

UNKNOWN = "urn:veeam:Job:0b7b4c8e-1111-4222-8333-444455556666"


def clone(http: httpx.Client, uid: str, body: dict[str, Any]) -> dict[str, Any]:
    started = ok(http.post(f"/v1/jobs/{uid}/clone", json=body), 202)
    assert started["kind"] == "cloneJob"
    return wait_operation(http, started["id"])


def test_clone_run_and_list_runs(http: httpx.Client) -> None:
    repository = make_repository(http)
    source = make_job(http, "Backup", repository)
    done = clone(
        http, source["uid"], {"name": f"native {tag()}", "folder_name": "native", "repository_uid": repository}
    )
    assert done["status"] == "succeeded", done
    new = ok(http.get(f"/v1/jobs/{done['result']['jobUid']}"))
    assert (new["job_type"], new["folder_name"], new["definition"]) == ("Backup", "native", source["definition"])
    started = ok(http.post(f"/v1/jobs/{new['uid']}/run"), 202)
    assert started["kind"] == "runJob" and started["parameters"]["job_uid"] == new["uid"]
    ran = wait_operation(http, started["id"])
    assert ran["status"] == "succeeded" and ran["result"]["fileName"].endswith("_Environment_Backup.zip"), ran
    runs = ok(http.get(f"/v1/jobs/{new['uid']}/runs"))["items"]
    assert [r["id"] for r in runs] == [ran["id"]] and runs[0]["status"] == "succeeded"
    assert ok(http.get(f"/v1/jobs/{source['uid']}/runs"))["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "x" * 51, "folder_name": "f", "repository_uid": "r"}, 422, "invalid_request"),
        ({"name": "ok", "folder_name": "f"}, 422, "invalid_request"),  # a backup clone needs a repository
        ({"name": "ok", "vm_suffix": "_r"}, 422, "invalid_request"),  # and takes no suffix
        ({"name": "ok", "job_type": "Replica", "vm_suffix": "_r"}, 400, "job_kind_mismatch"),
        (
            {"name": "ok", "folder_name": "f", "repository_uid": "urn:veeam:Repository:none"},
            400,
            "repository_not_found",
        ),
        ({"name": "ok", "job_type": "Tape", "folder_name": "f"}, 422, "invalid_request"),
        ({"name": "ok", "unknown": 1}, 422, "invalid_request"),
    ],
)
def test_bad_clone_bodies_start_nothing(http: httpx.Client, body: dict[str, Any], status: int, code: str) -> None:
    source = make_job(http, "Backup", make_repository(http))
    before = ok(http.get("/v1/operations", params={"kind": "cloneJob", "limit": 1}))["total"]
    assert error_of(http.post(f"/v1/jobs/{source['uid']}/clone", json=body))[0] == status
    assert http.post(f"/v1/jobs/{source['uid']}/clone", json=body).json()["error"]["code"] == code
    assert ok(http.get("/v1/operations", params={"kind": "cloneJob", "limit": 1}))["total"] == before


def test_taken_names_and_unknown_jobs(http: httpx.Client) -> None:
    repository = make_repository(http)
    source = make_job(http, "Backup", repository)
    taken = {"name": source["name"], "folder_name": "f", "repository_uid": repository}
    assert http.post(f"/v1/jobs/{source['uid']}/clone", json=taken).json()["error"]["code"] == "job_name_taken"
    for method, action in (("post", "clone"), ("post", "run"), ("post", "stop"), ("get", "runs")):
        body = {"json": {"name": "n", "folder_name": "f", "repository_uid": repository}} if action == "clone" else {}
        response = http.request(method.upper(), f"/v1/jobs/{UNKNOWN}/{action}", **body)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", (action, response.text)
    stop = http.post(f"/v1/jobs/{source['uid']}/stop")
    assert stop.status_code == 409 and "not running" in stop.json()["error"]["message"]


def test_the_cli_commands(live_server: LiveServer, http: httpx.Client) -> None:
    repository = make_repository(http)
    source = make_job(http, "Backup", repository)
    name = f"cli {tag()}"
    out = expect(
        run_cli(live_server, "cloneJob", source["name"], name, "FolderName=cli", f"RepositoryUid={repository}"),
        0,
        "cloneJob completed successfully",
        "new job: urn:veeam:Job:",
    )
    new_uid = out.split("new job: ")[1].split()[0]
    assert ok(http.get(f"/v1/jobs/{new_uid}"))["name"] == name
    expect(run_cli(live_server, "runJob", name), 0, "runJob completed successfully", "_Environment_Backup.zip")
    listed = expect(run_cli(live_server, "listJobRuns", new_uid), 0, "runJob", "succeeded")
    assert "_Environment_Backup.zip" in listed
    expect(run_cli(live_server, "listJobRuns", source["uid"]), 0, "No runs yet.")
    expect(run_cli(live_server, "stopJob", name), 5, "not running")
    expect(run_cli(live_server, "runJob", "no such job"), 4, "no job named 'no such job'")
    expect(run_cli(live_server, "cloneJob", name, "again", "Colour=red"), 2, "unknown option", "FolderName")
