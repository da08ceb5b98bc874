"""The Storage Service of type S3 against a real S3 API server (moto on loopback, real HTTP): a
validation writes to the bucket and reports a missing one; the secret key is kept only sealed
(bound to its endpoint) and never shown; a PATCH without the key keeps it; two in-process
environments duplicate a project through the bucket, the key reaching the operations sealed with
them and never in their parameters; a source cancelled while syncing cancels the target through
the bucket."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from envclone.domain.duplication import DuplicationStatus
from envclone.errors import EnvcloneError
from envclone.operations.duplicate import run, storage
from envclone.services import duplications, storage_service
from envclone.services.context import ServiceContext
from envclone.store import server_state, tables
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server, shared_s3_server
from tests.unit.duplicate._content import ADMIN, ENV_B, PROJECT_ID, VIEWER, environment, request, rows, seed


@pytest.fixture(scope="module")
def s3() -> S3Server:
    return shared_s3_server()


def s3_config(s3: S3Server, prefix: str, **extra: str) -> dict[str, str]:
    """The SDK's fields, the location an s3:// URL naming the test server (not AWS)."""
    location = f"s3://{s3.bucket}/{prefix}?endpoint={s3.endpoint}"
    return {"type": "S3", "alias": "bucket", "location": location, "s3Region": REGION,
            "awsAccessId": ACCESS_KEY_ID, "awsSecretKey": SECRET_ACCESS_KEY, **extra}  # fmt: skip


def kept(ctx: ServiceContext) -> str:
    with ctx.db.read() as conn:
        return str(server_state.get(conn, storage_service.STATE_KEY))


def test_an_s3_storage_service_is_checked_in_the_bucket_and_its_key_kept_sealed(
    s3: S3Server, tmp_path: Path
) -> None:
    ctx, prefix = environment(tmp_path / "env"), f"dup-{uuid.uuid4().hex[:8]}"
    config = s3_config(s3, prefix)
    storage_service.validate(ctx, ADMIN, config)
    shown = storage_service.update(ctx, ADMIN, config)
    assert shown == {"type": "S3", "alias": "bucket", "location": config["location"], "s3Region": REGION,
                     "configured": True}  # fmt: skip
    assert storage_service.get_config(ctx, VIEWER) == shown
    stored = kept(ctx)
    assert SECRET_ACCESS_KEY not in stored and ACCESS_KEY_ID not in stored and "sealed" in stored
    # The validation's probe object is removed again.
    assert s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("KeyCount") == 0

    # The SDK sends back what GET shows, without the key: the kept one is used.
    storage_service.validate(ctx, ADMIN, {"type": "S3", "location": config["location"], "s3Region": REGION})
    assert storage_service.update(ctx, ADMIN, {"alias": "renamed"})["alias"] == "renamed"
    place = storage_service.place(ctx)
    assert place is not None and place.location.startswith(f"s3://{s3.bucket}/{prefix}?")
    assert SECRET_ACCESS_KEY not in repr(place)

    # The kept key is bound to its endpoint: another endpoint does not get it.
    elsewhere = {"type": "S3", "location": f"s3://{s3.bucket}/{prefix}?endpoint=http://127.0.0.1:9"}
    message = _refused(ctx, elsewhere)
    assert "cannot be used" in message and SECRET_ACCESS_KEY not in message


def _refused(ctx: ServiceContext, config: dict[str, str]) -> str:
    with pytest.raises(EnvcloneError) as caught:
        storage_service.validate(ctx, ADMIN, config)
    assert (caught.value.code, caught.value.status) == ("storage_invalid", 400)
    return caught.value.message


def test_a_missing_bucket_or_a_half_key_is_refused_and_nothing_kept(s3: S3Server, tmp_path: Path) -> None:
    ctx = environment(tmp_path / "env")
    missing = s3_config(s3, "p", location=f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}?endpoint={s3.endpoint}")
    message = _refused(ctx, missing)
    assert "does not exist" in message and SECRET_ACCESS_KEY not in message
    with pytest.raises(EnvcloneError):
        storage_service.update(ctx, ADMIN, missing)
    half = s3_config(s3, "p")
    del half["awsSecretKey"]
    assert "go together" in _refused(ctx, half)
    assert "differs" in _refused(ctx, s3_config(s3, "p", s3Region="eu-west-3") | {
        "location": f"s3://{s3.bucket}/p?endpoint={s3.endpoint}&region={REGION}"})  # fmt: skip
    assert storage_service.get_config(ctx, ADMIN)["configured"] is False


def test_two_environments_duplicate_through_the_bucket(s3: S3Server, tmp_path: Path) -> None:
    config = s3_config(s3, f"dup-{uuid.uuid4().hex[:8]}")
    source, target = environment(tmp_path / "a"), environment(tmp_path / "b")
    for ctx in (source, target):
        storage_service.update(ctx, ADMIN, config)
    seed(source)
    body = request("Through S3", target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    duplications.start_target(target, ADMIN, started.id, body)
    for ctx, status in ((source, DuplicationStatus.EXPORTED), (target, DuplicationStatus.COMPLETED)):
        record = duplications.get(ctx, ADMIN, started.id)
        ctx.engine.wait(record.operation_id, timeout=60)
        done = duplications.get(ctx, ADMIN, started.id)
        assert done.status is status, done.message
        op = ctx.engine.get(done.operation_id)
        assert SECRET_ACCESS_KEY not in str(op.params) and ACCESS_KEY_ID not in str(op.params)
    new_id = duplications.get(target, ADMIN, started.id).target["project"]["id"]
    copied = {o["id"] for o in rows(target, tables.metadata_objects, project_id=new_id)}
    assert copied == {o["id"] for o in rows(source, tables.metadata_objects, project_id=PROJECT_ID)}
    prefix = config["location"].split("/")[3].split("?")[0]
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])]
    assert f"{prefix}/duplications/{started.id}.json" in keys
    duplications.delete(source, ADMIN, started.id)  # its package leaves the bucket
    assert not s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{prefix}/duplications/").get("Contents")


def test_cancelling_the_source_cancels_the_target_through_the_bucket(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source's sync is held (the pattern of test_cancel.py) so that the cancel lands while
    both sides are syncing; the marker the source leaves in the bucket ends the target."""
    release, entered, real = threading.Event(), threading.Event(), storage.push

    def held(*args: Any, **kwargs: Any) -> int:
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(run.storage, "push", held)
    config = s3_config(s3, f"dup-{uuid.uuid4().hex[:8]}")
    source, target = environment(tmp_path / "a"), environment(tmp_path / "b")
    for ctx in (source, target):
        storage_service.update(ctx, ADMIN, config)
    seed(source)
    body = request("Cancelled", target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    duplications.start_target(target, ADMIN, started.id, body)
    try:
        assert entered.wait(30)
        duplications.cancel(source, ADMIN, started.id)
    finally:
        release.set()
    prefix = config["location"].split("/")[3].split("?")[0]
    assert f"{prefix}/duplications/{started.id}.cancelled" in [
        o["Key"] for o in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])
    ]
    for ctx in (target, source):
        ctx.engine.wait(duplications.get(ctx, ADMIN, started.id).operation_id, timeout=60)
        assert duplications.get(ctx, ADMIN, started.id).status is DuplicationStatus.CANCELLED
    assert rows(target, tables.projects) == []
