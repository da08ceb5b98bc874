"""Each job kind run for real, against real servers: a replication job clones the environment to
its replica (a second server named as the replica, its password in a secret file) so that their
digests are equal; a backup copy job copies its source job's backups from one repository into
another, sending only the chunks the destination lacks, and every copy verifies chunk by chunk;
an immediate backup copy job copies each new backup as soon as its run has written it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.archive import ArchiveReader
from envclone.blobs.local import LocalBlobStore
from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import DEADLINE, digests, ok, wait_operation
from tests.e2e.conftest import TARGET_PASSWORD, Servers
from tests.e2e.veeam.em import em, log_on, make_job, make_repository, veeam_error, wait_task

SOURCE_NAME = "envclone"  # the default environment name
SUFFIX = "_replica"


@pytest.fixture(scope="module")
def source(servers: Servers) -> LiveServer:
    return servers.start(demo=True)


@pytest.fixture(scope="module")
def replica(servers: Servers) -> LiveServer:
    """An empty environment named as the source's replica, with its own admin password."""
    return servers.start(password=TARGET_PASSWORD, env={"ENVCLONE_ENVIRONMENT_NAME": SOURCE_NAME + SUFFIX})


@pytest.fixture(scope="module")
def http(source: LiveServer) -> Any:
    with source.client() as client:
        yield client


def replica_password(replica: LiveServer) -> str:
    """The replica admin's password: its own until a replication brings the source's users (and
    with them the source admin's password, which the job's secret must then hold)."""
    for password in (TARGET_PASSWORD, ADMIN_PASSWORD):
        if httpx.get(replica.url + "/v1/auth/whoami", auth=(ADMIN, password)).status_code == 200:
            return password
    raise AssertionError("the replica's admin cannot log in")


def replica_client(replica: LiveServer) -> httpx.Client:
    return replica.client(ADMIN, replica_password(replica))


def bare(uid: str) -> str:
    return uid.rsplit(":", 1)[1]


def run(http: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    started = ok(http.post(f"/v1/jobs/{job['uid']}/run"), 202)
    return wait_operation(http, started["id"], DEADLINE * 2)


def replica_job(http: httpx.Client, server: LiveServer, target: LiveServer, secret: str) -> dict[str, Any]:
    (server.data_dir / "secrets").mkdir(exist_ok=True)
    secret_file = server.data_dir / "secrets" / secret
    secret_file.write_text(replica_password(target) + "\n")
    secret_file.chmod(0o600)
    body = {
        "name": f"replica {tag()}",
        "job_type": "Replica",
        "definition": {"vmSuffix": SUFFIX, "replicaTarget": {"url": target.url, "user": ADMIN, "secret": secret}},
    }
    job: dict[str, Any] = ok(http.post("/v1/jobs", json=body), 201)
    return job


def test_a_replication_job_makes_the_replica_equal_to_the_source(
    source: LiveServer, replica: LiveServer, http: httpx.Client
) -> None:
    job = replica_job(http, source, replica, f"replica-{tag()}")
    token = log_on(source)
    with em(source, token, json=True) as client:
        started = client.post(f"/jobs/{bare(job['uid'])}", params={"action": "start"})
        assert started.status_code == 202, started.text
        done = wait_task(client, started.json()["Href"], DEADLINE * 2).json()
    assert done["Result"] == {"Success": True, "Message": "Ok"}, done
    with replica_client(replica) as tgt:
        assert digests(tgt) == digests(http)
    (latest,) = ok(http.get(f"/v1/jobs/{job['uid']}/runs"))["items"][:1]
    assert latest["kind"] == "runReplicaJob" and latest["result"]["replicaName"] == SOURCE_NAME + SUFFIX
    assert [s["result"] for s in latest["steps"]][:2] == ["success", "success"]
    # The password is in no answer and no log: the job keeps only the secret's name.
    shown = json.dumps([ok(http.get(f"/v1/jobs/{job['uid']}")), latest])
    assert TARGET_PASSWORD not in shown and TARGET_PASSWORD not in source.log()


def test_a_replica_job_refuses_a_target_not_named_as_its_replica(
    source: LiveServer, replica: LiveServer, http: httpx.Client
) -> None:
    job = replica_job(http, source, replica, f"replica-{tag()}")
    spec = {"ReplicaJobCloneInfo": {"JobName": f"dr {tag()}", "VmSuffix": "_dr"}}
    with em(source, log_on(source), json=True) as client:
        task = client.post(f"/jobs/{bare(job['uid'])}", params={"action": "clone"}, json=spec).json()
        clone_uid = wait_task(client, task["Href"]).json()["Links"][1]["Href"].split("/jobs/")[1].split("?")[0]
    with replica_client(replica) as tgt:
        before = digests(tgt)
        failed = run(http, {"uid": f"urn:veeam:Job:{clone_uid}"})
        assert failed["status"] == "failed", failed
        assert f"not '{SOURCE_NAME}_dr'" in failed["error"]["message"], failed["error"]
        assert digests(tgt) == before


def test_a_replica_job_whose_secret_others_may_read_or_is_gone_does_not_start(
    source: LiveServer, replica: LiveServer, http: httpx.Client
) -> None:
    job = replica_job(http, source, replica, f"replica-{tag()}")
    secret = source.data_dir / "secrets" / job["definition"]["replicaTarget"]["secret"]
    with em(source, log_on(source)) as client:
        secret.chmod(0o644)
        message = veeam_error(client.post(f"/jobs/{bare(job['uid'])}", params={"action": "start"}), 400)
        assert "chmod 600" in message, message
        secret.unlink()
        message = veeam_error(client.post(f"/jobs/{bare(job['uid'])}", params={"action": "start"}), 400)
    assert secret.name in message and str(source.data_dir) not in message


def repository(http: httpx.Client, server: LiveServer) -> tuple[str, Path]:
    uid = make_repository(http)
    row = ok(http.get(f"/v1/repositories/{uid}"))
    return uid, server.data_dir / "repositories" / row["path"]


def copy_job(http: httpx.Client, kind: str, repository_uid: str, sources: list[str]) -> dict[str, Any]:
    body = {
        "name": f"{kind} {tag()}",
        "job_type": kind,
        "repository_uid": repository_uid,
        "folder_name": f"copies-{tag()}",
        "definition": {"sourceJobs": sources},
    }
    job: dict[str, Any] = ok(http.post("/v1/jobs", json=body), 201)
    return job


def points(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.point.json"))]


def verified(repository_folder: Path, archive_id: str) -> None:
    """Every chunk of the archive read from the repository's own chunk store and its hash checked."""
    with ArchiveReader.open(LocalBlobStore(repository_folder), archive_id) as reader:
        assert reader.check() == []


def test_a_backup_copy_job_copies_only_the_missing_chunks(source: LiveServer, http: httpx.Client) -> None:
    first_uid, first = repository(http, source)
    second_uid, second = repository(http, source)
    backup = make_job(http, "Backup", first_uid)
    ran = run(http, backup)
    assert ran["status"] == "succeeded", ran
    copier = copy_job(http, "BackupCopy", second_uid, [backup["uid"]])
    copied = run(http, copier)
    assert copied["status"] == "succeeded", copied
    result = copied["result"]
    assert len(result["copied"]) == 1 and result["chunksSent"] == result["chunks"] > 0
    (point,) = points(second / copier["folder_name"])
    assert point["archive_id"] == ran["result"]["archiveId"] and point["copied_from"] == backup["uid"]
    verified(second, point["archive_id"])
    # Nothing new: nothing copied. Then a small change and a new backup: only its new chunks cross.
    again = run(http, copier)["result"]
    assert (again["copied"], again["bytesSent"]) == ([], 0)
    ok(http.post("/v1/records/jobConsole", json={"items": [{"action": "copy test", "subject": tag()}]}), 201)
    second_backup = run(http, backup)
    assert second_backup["status"] == "succeeded"
    after = run(http, copier)["result"]
    assert len(after["copied"]) == 1 and 0 < after["chunksSent"] < after["chunks"], after
    assert after["bytesSent"] < result["bytesSent"]
    for each in points(second / copier["folder_name"]):
        verified(second, each["archive_id"])
    assert [p["archive_id"] for p in points(first / backup["folder_name"])] == [
        p["archive_id"] for p in points(second / copier["folder_name"])
    ]


def test_an_immediate_backup_copy_job_copies_each_new_backup(source: LiveServer, http: httpx.Client) -> None:
    first_uid, _ = repository(http, source)
    second_uid, second = repository(http, source)
    backup = make_job(http, "Backup", first_uid)
    follower = copy_job(http, "ImmediateBackupCopy", second_uid, [backup["uid"]])
    ran = run(http, backup)
    assert ran["status"] == "succeeded", ran
    end = time.monotonic() + DEADLINE
    while True:
        runs = ok(http.get(f"/v1/jobs/{follower['uid']}/runs"))["items"]
        if runs and runs[0]["status"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < end, runs
        time.sleep(0.1)
    (copy,) = runs
    assert copy["status"] == "succeeded" and copy["parameters"]["after_run"] == ran["id"], copy
    (point,) = points(second / follower["folder_name"])
    assert point["archive_id"] == ran["result"]["archiveId"]
    verified(second, point["archive_id"])


def test_a_copy_job_without_sources_does_not_start(source: LiveServer, http: httpx.Client) -> None:
    uid, _ = repository(http, source)
    lonely = copy_job(http, "BackupCopy", uid, [])
    response = http.post(f"/v1/jobs/{lonely['uid']}/run")
    assert response.status_code == 422 and "source job" in response.json()["error"]["message"], response.text
