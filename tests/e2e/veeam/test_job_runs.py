"""POST /api/jobs/{ID}?action=start|stop and the run history, against a real server on SQLite and
PostgreSQL: a backup job's run is a task (StartJob) that ends with a backup session; it writes an
Environment Backup of the environment into its repository's folder as one package file that
verifies chunk by chunk and whose recorded digests are the environment's; a cloned job runs into
its own repository; jobs that cannot run are refused in Veeam's Error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.archive import verify_package
from envclone.blobs.local import LocalBlobStore
from envclone.domain.components import Component
from tests.conftest import LiveServer
from tests.e2e.client import digests, ok, recorded_digests, wait_operation
from tests.e2e.veeam.em import Q, em, links, log_on, make_job, make_repository, text, veeam_error, wait_task, xml


@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    token: str
    repository: dict[str, Any]
    job: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/jobs/{self.job['uid'].rsplit(':', 1)[1]}"


def repository_row(http: httpx.Client, uid: str) -> dict[str, Any]:
    row: dict[str, Any] = ok(http.get(f"/v1/repositories/{uid}"))
    return row


def job_folder(server: LiveServer, repository: dict[str, Any], job: dict[str, Any]) -> Path:
    return server.data_dir / "repositories" / repository["path"] / job["folder_name"]


@pytest.fixture(scope="module")
def env(live_server: LiveServer, http: httpx.Client) -> Iterator[Env]:
    repository = repository_row(http, make_repository(http))
    yield Env(live_server, http, log_on(live_server), repository, make_job(http, "Backup", repository["uid"]))


def run(client: httpx.Client, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a run and wait for it: (the 202 task, the finished task)."""
    response = client.post(path, params={"action": "start", "v": "latest"})
    assert response.status_code == 202, response.text
    task = response.json()
    assert (task["State"], task["Operation"]) == ("Running", "StartJob") and task["Links"][0]["Rel"] == "Delete"
    return task, wait_task(client, task["Href"]).json()


def test_a_backup_job_writes_a_verified_backup_into_its_repository(env: Env, tmp_path: Path) -> None:
    before = digests(env.http)
    folder = job_folder(env.server, env.repository, env.job)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".0123456789ABCDEF0123456789ABCDEF.part").write_bytes(b"what an interrupted run left")
    with em(env.server, env.token, json=True) as client:
        _, done = run(client, env.path)
        assert done["Result"] == {"Success": True, "Message": "Ok"}, done
        (related,) = [link for link in done["Links"] if link["Rel"] == "Related"]
        assert related["Type"] == "BackupJobSession" and related["Href"].endswith("?format=Entity")
        session = client.get(related["Href"]).json()
    assert session["JobUid"] == env.job["uid"] and session["JobName"] == env.job["name"]
    assert (session["State"], session["Result"], session["Progress"], session["JobType"]) == (
        "Stopped", "Success", 100, "Backup",
    )  # fmt: skip
    assert session["EndTimeUTC"] >= session["CreationTimeUTC"]
    number = int(done["TaskId"].removeprefix("task-"))
    result = ok(env.http.get(f"/v1/operations/{number}"))["result"]
    file = folder / result["fileName"]
    assert file.name.endswith("_Environment_Backup.zip") and file.stat().st_size == result["size"]
    assert not [p for p in file.parent.iterdir() if p.name.startswith(".")]  # no partial file left
    with file.open("rb") as src:
        manifest = verify_package(src, LocalBlobStore(tmp_path / "empty"))
    assert {component for component, _ in manifest.entries()} <= {c.value for c in Component}
    backup = result["backupName"]
    assert recorded_digests(env.http, backup) == before == digests(env.http)
    assert ok(env.http.get(f"/v1/backups/{backup}"))["manifest_id"] == manifest.archive_id


def test_the_run_history(env: Env) -> None:
    other_repository = make_repository(env.http)
    other = make_job(env.http, "Backup", other_repository)
    with em(env.server, env.token, json=True) as client:
        mine, _ = run(client, env.path)
        theirs, _ = run(client, f"/jobs/{other['uid'].rsplit(':', 1)[1]}")
        listed = client.get("/backupSessions").json()["Refs"]
        names = {ref["Name"].split("@")[0] for ref in listed}
        assert {env.job["name"], other["name"]} <= names
        assert all(ref["Type"] == "BackupJobSessionReference" for ref in listed)
        own = client.get(f"{env.path}/backupSessions", params={"format": "Entity"}).json()["BackupJobSessions"]
        assert own and {s["JobUid"] for s in own} == {env.job["uid"]}
        one = client.get(own[0]["Href"]).json()
        assert one == own[0]
    with em(env.server, env.token) as client:
        root = xml(client.get("/backupSessions", params={"format": "Entity"}))
        sessions = root.findall(f"{Q}BackupJobSession")
        assert sessions and all(text(s, "State") == "Stopped" for s in sessions)
        ref = xml(client.get(f"/backupSessions/{sessions[0].get('UID', '').rsplit(':', 1)[1]}"))
        assert ref.tag == f"{Q}Ref" and any(link["Rel"] == "Up" for link in links(ref))
        veeam_error(client.get("/backupSessions/0b7b4c8e-1111-4222-8333-444455556666"), 404)
        veeam_error(client.get("/backupSessions/not-a-uuid"), 404)
    assert mine["Href"] != theirs["Href"]


def test_a_cloned_job_runs_into_its_own_repository(env: Env) -> None:
    target = repository_row(env.http, make_repository(env.http))
    spec = {
        "BackupJobCloneInfo": {"JobName": "runnable clone", "FolderName": "clone-files", "RepositoryUid": target["uid"]}
    }
    with em(env.server, env.token, json=True) as client:
        task = client.post(env.path, params={"action": "clone"}, json=spec).json()
        done = wait_task(client, task["Href"]).json()
        clone = client.get(done["Links"][1]["Href"]).json()
        _, ran = run(client, f"/jobs/{clone['UID'].rsplit(':', 1)[1]}")
    assert ran["Result"]["Success"] is True
    ran_id = ok(env.http.get(f"/v1/operations/{ran['TaskId'].removeprefix('task-')}"))["result"]["archiveId"]
    folder = env.server.data_dir / "repositories" / target["path"] / "clone-files"
    # One run: its package file and its restore point record (the archive is in the repository's
    # chunk store, beside the job folders).
    assert sorted(f.name.rsplit("_", 1)[1] for f in folder.iterdir()) == [f"{ran_id}.point.json", "Backup.zip"]


def test_jobs_that_cannot_run(env: Env) -> None:
    replica = make_job(env.http, "Replica", None)
    bare = make_job(env.http, "Backup", None)
    escaping = ok(
        env.http.post(
            "/v1/jobs",
            json={"name": f"escape {replica['uid'][-6:]}", "job_type": "Backup",
                  "repository_uid": env.repository["uid"], "folder_name": "../outside"},
        ),
        201,
    )  # fmt: skip
    with em(env.server, env.token) as client:
        for job, word in ((replica, "names no replica"), (bare, "repository"), (escaping, "folder")):
            message = veeam_error(client.post(f"/jobs/{job['uid'].rsplit(':', 1)[1]}", params={"action": "start"}), 400)
            assert word in message, message
        veeam_error(client.post("/jobs/0b7b4c8e-1111-4222-8333-444455556666", params={"action": "start"}), 404)
        veeam_error(client.post("/jobs/0b7b4c8e-1111-4222-8333-444455556666", params={"action": "stop"}), 404)
        veeam_error(client.post(env.path, params={"action": "stop"}), 409)
    assert not (env.server.data_dir / "repositories" / env.repository["path"] / "outside").exists()


def test_requests_shaped_as_the_veeam_em_client_sends_them(env: Env) -> None:
    """veeam-em sends the session id as header and cookie, JSON Accept and Content-Type on every
    request (bodiless ones too), ``v`` on every call, and takes a job's uuid as UID.split(':')[3]."""
    token = log_on(env.server)
    headers = {"X-RestSvcSessionId": token, "Accept": "application/json", "Content-Type": "application/json"}
    with httpx.Client(base_url=env.server.url + "/api", headers=headers, params={"v": "latest"}, timeout=60) as em_like:
        em_like.cookies.set("X-RestSvcSessionId", token, path="/api")
        (own,) = em_like.get("/logonSessions").json()["LogonSessions"]
        whoami = em_like.get(f"/logonSessions/{own['SessionId']}")
        assert whoami.status_code == 200 and whoami.json()["UserName"] == "admin"
        (ref,) = [r for r in em_like.get("/jobs").json()["Refs"] if r["Name"] == env.job["name"]]
        started = em_like.post(f"/jobs/{ref['UID'].split(':')[3]}", params={"action": "start"})
        assert started.status_code == 202, started.text
        done = wait_task(em_like, started.json()["Href"]).json()
        assert done["Result"] == {"Success": True, "Message": "Ok"}, done
        missing = em_like.get("/jobs/00000000-0000-0000-0000-000000000000")
        assert missing.status_code == 404 and set(missing.json()) == {"Message", "StatusCode"}


def test_a_repository_that_cannot_be_written_fails_the_run_with_the_reason(env: Env) -> None:
    blocked = env.server.data_dir / "repositories" / "blocked"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the repository's folder should be")
    body = {"name": f"blocked-{env.job['uid'][-8:]}", "kind": "local", "path": "blocked"}
    repository = ok(env.http.post("/v1/repositories", json=body), 201)
    job = make_job(env.http, "Backup", repository["uid"])
    with em(env.server, env.token, json=True) as client:
        _, done = run(client, f"/jobs/{job['uid'].rsplit(':', 1)[1]}")
    assert done["Result"]["Success"] is False and "cannot be written" in done["Result"]["Message"], done
    assert str(env.server.data_dir) not in done["Result"]["Message"]


def test_a_job_runs_backup_restores_to_its_digests(env: Env) -> None:
    """The backup a job run wrote is an Environment Backup like any other: restored, the
    environment's content is the backup's again (digests compared component by component)."""
    with em(env.server, env.token, json=True) as client:
        _, done = run(client, env.path)
    assert done["Result"]["Success"] is True, done
    number = int(done["TaskId"].removeprefix("task-"))
    backup = ok(env.http.get(f"/v1/operations/{number}"))["result"]["backupName"]
    recorded = recorded_digests(env.http, backup)
    ok(env.http.post("/v1/projects", json={"name": f"after the run {number}"}), 201)
    assert digests(env.http)["artifacts"] != recorded["artifacts"]
    op = ok(env.http.post("/v1/restore", json={"backup_name": backup}), 202)
    assert wait_operation(env.http, op["id"])["status"] == "succeeded"
    after = digests(env.http)
    core = [c for c in recorded if c not in ("users", "files", "environment")]
    assert {c: after[c] for c in core} == {c: recorded[c] for c in core}
