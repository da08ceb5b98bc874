"""Project duplication across two real servers through a Storage Service of type S3: a real S3 API
server (moto on loopback, real HTTP) that checks signatures against an IAM access key, as AWS does.
The source runs on SQLite, the target on PostgreSQL. The Storage Service is configured with the
fields mstrio-py sends (type S3, location, s3Region, awsAccessId, awsSecretKey); the document's
sample bodies duplicate a project through the bucket, and so does mstrio-py's
duplicate_to_other_environment. Wrong keys and a missing bucket are refused in Strategy's error
shape, and the secret key is never in a response, a log (the source logs at debug level,
botocore's signed requests included) or the database (SQLite's files, PostgreSQL's dump)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import (
    LIBRARY,
    Project,
    check_copied,
    make_project,
    sample,
    seed_configuration,
    wait,
)
from tests.e2e.strategy.library import login, session, strategy_error
from tests.s3_server import REGION, free_port

STORAGE = "/mstrServices/library/storage"


@dataclass(frozen=True)
class Bucket:
    """A bucket on an S3 server that authenticates every request, and the IAM key that opens it."""

    endpoint: str
    name: str
    access_id: str
    secret: str = ""

    def location(self, prefix: str, bucket: str | None = None) -> str:
        return f"s3://{bucket or self.name}/{prefix}?endpoint={self.endpoint}"

    def keys(self, prefix: str) -> list[str]:
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                              aws_access_key_id=self.access_id, aws_secret_access_key=self.secret)  # fmt: skip
        return [o["Key"] for o in client.list_objects_v2(Bucket=self.name, Prefix=prefix).get("Contents", [])]


@pytest.fixture(scope="module")
def bucket() -> Iterator[Bucket]:
    """moto in its own process; a bucket and an IAM user allowed S3 made while moto still lets
    anyone in, then authentication switched on (moto's reset-auth): from then on a request signed
    with any other key, or with the right id and a wrong secret, is refused as AWS refuses it."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    anyone = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "x" * 20,
              "aws_secret_access_key": "y" * 40}  # fmt: skip
    try:
        name, deadline = f"dup-{uuid.uuid4().hex[:8]}", time.monotonic() + 30
        while True:
            try:
                boto3.client("s3", **anyone).create_bucket(Bucket=name)
                break
            except (EndpointConnectionError, ConnectionClosedError):
                assert process.poll() is None and time.monotonic() < deadline, "moto did not start"
                time.sleep(0.1)
        iam = boto3.client("iam", **anyone)
        iam.create_user(UserName="envclone")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="envclone", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="envclone")["AccessKey"]
        assert httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0").status_code == 200
        yield Bucket(endpoint, name, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Pair:
    source: LiveServer
    target: LiveServer
    src: httpx.Client  # Strategy sessions, as the document's curl calls log in
    tgt: httpx.Client
    src_admin: httpx.Client
    tgt_admin: httpx.Client
    prefix: str


def s3_body(bucket: Bucket, prefix: str, **changed: str) -> dict[str, Any]:
    """The Storage Service body with mstrio-py's S3 fields."""
    return {"sharedFileStore": {"type": "S3", "alias": "bucket", "location": bucket.location(prefix),
                                "s3Region": REGION, "awsAccessId": bucket.access_id,
                                "awsSecretKey": bucket.secret, **changed}}  # fmt: skip


def debug_server(servers: Servers) -> LiveServer:
    """A server logging at debug level: botocore then logs every signed request's headers."""
    tmp = servers.factory.mktemp("debug-log")
    server = LiveServer(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}", args=("--log-level", "debug"))
    servers.started.append(server)
    return server.start()


@pytest.fixture(scope="module")
def pair(servers: Servers, bucket: Bucket) -> Iterator[Pair]:
    source, target = debug_server(servers), servers.start("postgresql")  # the production store
    src = session(source, login(source, application_type=None))
    tgt = session(target, login(target, application_type=None))
    prefix = f"shared-{uuid.uuid4().hex[:8]}"
    for client in (src, tgt):
        assert client.patch(STORAGE, json=s3_body(bucket, prefix)).status_code == 204
    src_admin, tgt_admin = source.client(), target.client()
    seed_configuration(src_admin)
    try:
        yield Pair(source, target, src, tgt, src_admin, tgt_admin, prefix)
    finally:
        for client in (src, tgt, src_admin, tgt_admin):
            client.close()


def test_the_storage_service_shows_s3_without_its_key(pair: Pair, bucket: Bucket) -> None:
    shown = ok(pair.src.get(STORAGE, params={"fields": "sharedFileStore"}))
    assert shown == {"sharedFileStore": {"type": "S3", "alias": "bucket", "location": bucket.location(pair.prefix),
                                         "s3Region": REGION, "configured": True}}  # fmt: skip
    # The SDK sends back what it read, without the key: validated and saved with the kept one.
    again = {"sharedFileStore": {**shown["sharedFileStore"], "alias": "renamed"}}
    assert pair.src.post(f"{STORAGE}/validation", json=again).status_code == 204
    assert pair.src.patch(STORAGE, json=again).status_code == 204
    assert ok(pair.src.get(STORAGE))["sharedFileStore"]["alias"] == "renamed"


def test_the_documents_samples_duplicate_through_the_bucket(pair: Pair, bucket: Bucket) -> None:
    project, name = make_project(pair.src_admin), f"Via S3 {tag()}"
    body = sample(pair.source.url + LIBRARY, pair.target.url + LIBRARY, project, name)
    started = ok(pair.src.post("/projectDuplications", json=body, headers={"Prefer": "respond-async"}), 201)
    dup_id = started["id"]
    on_target = pair.tgt.put(f"/projectDuplications/{dup_id}", json=body, headers={"Prefer": "respond-async"})
    assert on_target.status_code == 201, on_target.text
    assert wait(pair.src, dup_id)["status"] == "exported"
    done = wait(pair.tgt, dup_id)
    assert done["status"] == "completed", done["message"]
    check_copied(pair.src_admin, pair.tgt_admin, project, name)
    assert f"{pair.prefix}/duplications/{dup_id}.json" in bucket.keys(f"{pair.prefix}/duplications/")
    stored = bucket.keys(f"{pair.prefix}/")
    assert any(k.startswith((f"{pair.prefix}/chunks/", f"{pair.prefix}/packs/")) for k in stored), stored
    assert any(k.startswith(f"{pair.prefix}/manifests/") for k in stored), stored


def test_mstrio_duplicates_to_the_other_environment_through_the_bucket(pair: Pair, bucket: Bucket) -> None:
    pytest.importorskip("mstrio")
    from mstrio.connection import Connection
    from mstrio.server import Environment
    from mstrio.server.project import CrossDuplicationConfig, ProjectDuplication, ProjectDuplicationStatus
    from mstrio.server.project import Project as SdkProject
    from mstrio.server.storage import StorageType

    source = Connection(pair.source.url + LIBRARY, ADMIN, ADMIN_PASSWORD, login_mode=1)
    target = Connection(pair.target.url + LIBRARY, ADMIN, ADMIN_PASSWORD, login_mode=1)
    try:
        environment = Environment(source)
        environment.update_storage_service(
            storage_type=StorageType.S3, alias="via sdk", location=bucket.location(pair.prefix), s3_region=REGION,
            aws_access_id=bucket.access_id, aws_secret_key=bucket.secret,
        )  # fmt: skip
        assert environment.storage_service.type is StorageType.S3 and environment.storage_service.configured
        assert environment.storage_service.aws_secret_key is None  # never returned
        project: Project = make_project(pair.src_admin)
        name = f"SDK via S3 {tag()}"
        config = CrossDuplicationConfig(import_description="via mstrio", import_default_locale=2052,
                                        import_locales=[1033, 2052], schema_objects_only=False)  # fmt: skip
        duplication = SdkProject(source, id=project.id).duplicate_to_other_environment(name, target, config)
        duplication.wait_for_stable_status(timeout=90, interval=1)
        assert duplication.status is ProjectDuplicationStatus.EXPORTED, duplication.message
        on_target = ProjectDuplication(target, id=duplication.id)
        on_target.wait_for_stable_status(timeout=90, interval=1)
        assert on_target.status is ProjectDuplicationStatus.COMPLETED, on_target.message
        made = ok(pair.tgt_admin.get("/v1/projects", params={"name": name}))["items"]
        assert made and made[0]["description"] == "via mstrio"
    finally:
        source.close()
        target.close()


def test_wrong_keys_and_a_missing_bucket_are_refused_and_change_nothing(pair: Pair, bucket: Bucket) -> None:
    before = ok(pair.src.get(STORAGE))
    wrong_secret = s3_body(bucket, pair.prefix, awsSecretKey="Wr0ng/" + bucket.secret[6:])
    unknown_id = s3_body(bucket, pair.prefix, awsAccessId="AKIAUNKNOWNKEY000000")
    missing = s3_body(bucket, pair.prefix, location=bucket.location("p", f"no-such-{uuid.uuid4().hex[:8]}"))
    for body, reason in ((wrong_secret, "refuses these credentials"), (unknown_id, "refuses these credentials"),
                         (missing, "does not exist")):  # fmt: skip
        for response in (pair.src.post(f"{STORAGE}/validation", json=body), pair.src.patch(STORAGE, json=body)):
            error = strategy_error(response, 400, "STORAGE_SERVICE_INVALID")
            assert reason in str(error["message"]), error
            assert bucket.secret not in response.text and body["sharedFileStore"]["awsSecretKey"] not in response.text
    assert ok(pair.src.get(STORAGE)) == before
    half = {"sharedFileStore": {"type": "S3", "location": bucket.location(pair.prefix), "awsAccessId": "AKIAONLY"}}
    strategy_error(pair.src.post(f"{STORAGE}/validation", json=half), 400, "STORAGE_SERVICE_INVALID")
    strategy_error(pair.src.patch(STORAGE, json={"sharedFileStore": {"awsSecretKey": 7}}), 400, "INVALID_REQUEST")


def database_contents(url: str) -> Iterator[tuple[str, bytes]]:
    """The database's bytes: SQLite's files (the WAL too), or PostgreSQL's whole dump."""
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        for file in database.parent.glob(database.name + "*"):
            yield file.name, file.read_bytes()
        return
    dump = subprocess.run(["pg_dump", "--data-only", url.replace("+psycopg", "")], capture_output=True, timeout=60)
    assert dump.returncode == 0 and b"server_state" in dump.stdout, dump.stderr
    yield "pg_dump", dump.stdout


def test_the_secret_key_is_never_in_a_response_a_log_or_the_database(pair: Pair, bucket: Bucket) -> None:
    for server, admin in ((pair.source, pair.src_admin), (pair.target, pair.tgt_admin)):
        operations = admin.get("/v1/operations", params={"limit": 1000}).text
        assert bucket.secret not in operations and bucket.access_id not in operations
        assert bucket.secret not in server.log() and bucket.access_id not in server.log()
        contents = dict(database_contents(server.database_url))
        assert any(b"sealedCredentials" in data for data in contents.values())  # the key is there, sealed
        for name, data in contents.items():
            assert bucket.secret.encode() not in data and bucket.access_id.encode() not in data, name
        assert ok(admin.get("/v1/operations", params={"limit": 1000}))["items"]  # there was something to look at
    # The source logs at debug level: its S3 requests were logged, signed, with the key id redacted.
    assert "Credential=[redacted]" in pair.source.log()
