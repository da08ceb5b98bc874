"""Veeam backup repositories on an S3 bucket (a repository whose path is an s3:// URL), against a
real server and a real S3 API server (moto on loopback, real HTTP), the key in the usual AWS
environment variables: a backup job started the Veeam way writes its package file, its chunks and
its restore point into the bucket, and the package verifies to the environment's digests; backup
copies go from a local repository into a bucket repository and from there into another local
one, each verified chunk by chunk; a missing bucket is the reason a job does not start (400 in
Veeam's Error); a URL holding a key is refused before it is stored; the key is never in a
response, the log or the database."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.archive import ArchiveReader, verify_package
from envclone.blobs.local import LocalBlobStore
from envclone.blobs.store import BlobStore
from envclone.operations.repository import job_key
from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import DEADLINE, digests, ok, recorded_digests, wait_operation
from tests.e2e.conftest import Servers
from tests.e2e.veeam.em import em, log_on, make_job, make_repository, veeam_error, wait_task
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server, shared_s3_server


@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    s3: S3Server
    prefix: str  # the bucket repository's prefix
    repository: str  # its uid

    def bucket(self) -> BlobStore:
        """The bucket repository as a blob store of the test's own (its chunk store)."""
        return self.s3.store(prefix=f"{self.prefix}/")

    def listed(self, below: str = "") -> list[str]:
        found = self.s3.client().list_objects_v2(Bucket=self.s3.bucket, Prefix=f"{self.prefix}/{below}")
        return [item["Key"].removeprefix(f"{self.prefix}/") for item in found.get("Contents", [])]


def bucket_repository(http: httpx.Client, s3: S3Server, prefix: str, bucket: str | None = None) -> str:
    url = f"s3://{bucket or s3.bucket}/{prefix}?endpoint={s3.endpoint}&region={REGION}"
    body = {"name": f"bucket-{tag()}", "kind": "s3", "path": url, "description": "a bucket repository"}
    uid: str = ok(http.post("/v1/repositories", json=body), 201)["uid"]
    return uid


@pytest.fixture(scope="module")
def env(servers: Servers) -> Iterator[Env]:
    s3 = shared_s3_server()
    keys = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    server = servers.start(demo=True, env=keys)
    with server.client() as http:
        prefix = f"repo-{uuid.uuid4().hex[:10]}"
        yield Env(server, http, s3, prefix, bucket_repository(http, s3, prefix))


def run(http: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    started = ok(http.post(f"/v1/jobs/{job['uid']}/run"), 202)
    done = wait_operation(http, started["id"], DEADLINE * 2)
    assert done["status"] == "succeeded", done
    return done


def copy_job(http: httpx.Client, repository_uid: str, sources: list[str]) -> dict[str, Any]:
    body = {"name": f"copy {tag()}", "job_type": "BackupCopy", "repository_uid": repository_uid,
            "folder_name": f"copies-{tag()}", "definition": {"sourceJobs": sources}}  # fmt: skip
    job: dict[str, Any] = ok(http.post("/v1/jobs", json=body), 201)
    return job


def verified(store: BlobStore, archive_id: str) -> None:
    """Every chunk of the archive read from that repository's chunk store, its hash checked."""
    with ArchiveReader.open(store, archive_id) as reader:
        assert reader.check() == []


def local_folder(env: Env, uid: str) -> Path:
    return env.server.data_dir / "repositories" / ok(env.http.get(f"/v1/repositories/{uid}"))["path"]


def test_a_backup_job_started_the_veeam_way_writes_into_the_bucket(env: Env, tmp_path: Path) -> None:
    job = make_job(env.http, "Backup", env.repository)
    job = ok(env.http.patch(f"/v1/jobs/{job['uid']}", json={"folder_name": "Tier 1"}))  # a name no key can be
    before = digests(env.http)
    with em(env.server, log_on(env.server), json=True) as client:
        task = client.post(f"/jobs/{job['uid'].rsplit(':', 1)[1]}", params={"action": "start"})
        assert task.status_code == 202, task.text
        done = wait_task(client, task.json()["Href"]).json()
        assert done["Result"] == {"Success": True, "Message": "Ok"}, done
        shown = client.get(f"/repositories/{env.repository.rsplit(':', 1)[1]}", params={"format": "Entity"}).json()
    assert (shown["Capacity"], shown["FreeSpace"]) == (0, 0)  # a bucket has none to measure
    result = ok(env.http.get(f"/v1/operations/{int(done['TaskId'].removeprefix('task-'))}"))["result"]
    folder = job_key("Tier 1")
    assert folder == "Tier_201"
    files = env.listed(f"{folder}/")
    package, point = f"{folder}/{result['fileName']}", f"{folder}/{result['fileName'][:19]}_{result['archiveId']}"
    assert package in files and f"{point}.point.json" in files, files
    assert not [k for k in env.listed() if k.startswith("~uploads/")]  # nothing staged is left
    data = env.bucket().get(package)
    assert len(data) == result["size"]
    manifest = verify_package(io.BytesIO(data), LocalBlobStore(tmp_path / "empty"))
    assert manifest.archive_id == result["archiveId"]
    verified(env.bucket(), result["archiveId"])
    assert recorded_digests(env.http, result["backupName"]) == before == digests(env.http)


def test_backup_copies_from_a_folder_to_the_bucket_and_back(env: Env) -> None:
    first, last = make_repository(env.http), make_repository(env.http)
    backup = make_job(env.http, "Backup", first)
    archive = run(env.http, backup)["result"]["archiveId"]

    into_bucket = copy_job(env.http, env.repository, [backup["uid"]])
    result = run(env.http, into_bucket)["result"]
    # The bucket's chunk store already holds the chunks the earlier backup shares with this one.
    assert len(result["copied"]) == 1 and 0 < result["chunksSent"] <= result["chunks"]
    (record,) = [k for k in env.listed(f"{job_key(into_bucket['folder_name'])}/") if k.endswith(".point.json")]
    assert archive in record
    verified(env.bucket(), archive)
    assert run(env.http, into_bucket)["result"]["bytesSent"] == 0  # nothing new, nothing sent

    # From the bucket to a local folder: the bucket repository is the copy's source.
    out_of_bucket = copy_job(env.http, last, [backup["uid"]])
    ok(env.http.patch(f"/v1/jobs/{backup['uid']}", json={"repository_uid": env.repository}))
    ok(env.http.patch(f"/v1/jobs/{backup['uid']}", json={"folder_name": into_bucket["folder_name"]}))
    back = run(env.http, out_of_bucket)["result"]
    assert len(back["copied"]) == 1 and back["chunksSent"] == back["chunks"] > 0
    folder = local_folder(env, last)
    (point,) = sorted((folder / out_of_bucket["folder_name"]).glob("*.point.json"))
    assert archive in point.name
    verified(LocalBlobStore(folder), archive)


def test_a_missing_bucket_is_why_a_job_does_not_start_and_the_key_never_shows(env: Env) -> None:
    missing = bucket_repository(env.http, env.s3, "p", bucket=f"no-such-{uuid.uuid4().hex[:8]}")
    job = make_job(env.http, "Backup", missing)
    with em(env.server, log_on(env.server)) as client:
        message = veeam_error(client.post(f"/jobs/{job['uid'].rsplit(':', 1)[1]}", params={"action": "start"}), 400)
    assert "does not exist" in message, message
    # A key written into the URL is refused before anything is stored.
    for secret in ("plain-secret-0123456789", SECRET_ACCESS_KEY):  # the second holds a "/"
        keyed = {"name": f"keyed-{tag()}", "path": f"s3://{ACCESS_KEY_ID}:{secret}@{env.s3.bucket}/p"}
        refused = env.http.post("/v1/repositories", json=keyed)
        assert refused.status_code == 422 and secret not in refused.text, refused.text
        assert ok(env.http.get("/v1/repositories", params={"name": keyed["name"]}))["items"] == []
    assert "credentials do not belong" in env.http.post("/v1/repositories", json={
        "name": f"keyed-{tag()}", "path": f"s3://id:plain-secret-0123456789@{env.s3.bucket}/p"}).text  # fmt: skip
    with em(env.server, log_on(env.server), json=True) as client:
        listed = client.get("/repositories", params={"format": "Entity"}).text
    for secret in (SECRET_ACCESS_KEY, ACCESS_KEY_ID):
        assert secret not in message and secret not in listed
        assert secret not in env.server.log()
    database = Path(env.server.database_url.removeprefix("sqlite:///"))
    assert SECRET_ACCESS_KEY.encode() not in database.read_bytes()
