"""An environment whose blob store is an object store (``blob_url = "s3://..."`` and its key in
envclone's config file), over real HTTP: files stream in and out, daily maintenance backs up, gc
and verify run over the bucket, and a restore brings a deleted file back with the same digest."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from envclone.blobs.s3 import MIN_PART_SIZE, S3BlobStore
from envclone.domain import maintenance, restore
from envclone.domain.archives import ArchiveKind
from envclone.domain.principal import Principal
from envclone.services import backups, environment, files
from envclone.services.context import ServiceContext
from envclone.store import archives
from tests.builders import make_context
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, shared_s3_server

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})


def run(ctx: ServiceContext, kind: str, params: dict[str, object]) -> None:
    op = ctx.engine.submit(kind, params, created_by="test")
    done = ctx.engine.wait(op.id, timeout=120)
    assert done.status.value == "succeeded", done.error_message


def read_file(ctx: ServiceContext, name: str) -> bytes:
    _row, pieces = files.open_file(ctx, ADMIN, "inbox", name)
    return b"".join(pieces)


def test_an_environment_backs_up_and_restores_on_an_object_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = shared_s3_server()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = tmp_path / "envclone.toml"
    config.write_text(
        f'blob_url = "s3://{s3.bucket}/env-{uuid.uuid4().hex}?endpoint={s3.endpoint}&region={REGION}"\n'
        f'blob_access_key_id = "{ACCESS_KEY_ID}"\nblob_secret_access_key = "{SECRET_ACCESS_KEY}"\n'
    )
    monkeypatch.setenv("ENVCLONE_CONFIG", str(config))
    ctx = make_context(tmp_path / "env")
    assert isinstance(ctx.blobs, S3BlobStore)
    assert SECRET_ACCESS_KEY not in repr(ctx.settings) and SECRET_ACCESS_KEY not in repr(ctx.blobs)

    large = random.Random(7).randbytes(MIN_PART_SIZE + MIN_PART_SIZE // 2)  # a multipart upload
    for name, data in [("large.bin", large), ("small.csv", b"a,b\n" * 500)]:
        up = files.start_upload(ctx, ADMIN, "inbox", name)
        for start in range(0, len(data), 1 << 20):
            up.write(data[start : start + (1 << 20)])
        up.finish()
    assert read_file(ctx, "large.bin") == large
    before = environment.digest(ctx, ADMIN)

    run(ctx, maintenance.KIND, {})
    with ctx.db.read() as conn:
        backup = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
    assert backup is not None
    keys = list(ctx.blobs.list(""))
    assert any(k.startswith(("chunks/", "packs/")) for k in keys) and any(k.startswith("files/") for k in keys)
    verify = backups.start_store_verify(ctx, ADMIN)  # every chunk of every archive, read back
    assert ctx.engine.wait(verify.id, timeout=120).status.value == "succeeded"

    files.delete_file(ctx, ADMIN, "inbox", "large.bin")
    assert environment.digest(ctx, ADMIN) != before
    request = restore.RestoreRequest(backup_name=backup["name"], stored_snapshots_and_files=True)
    run(ctx, restore.KIND, request.model_dump(mode="json"))
    assert environment.digest(ctx, ADMIN) == before
    assert read_file(ctx, "large.bin") == large

