"""The storage service settings: a file_system folder must be absolute, existing and writable;
an S3 location must name a bucket (S3 against a real S3 server: test_bucket_storage.py); other
object stores are refused; PATCH merges; secrets are never kept nor shown; only a settings
administrator changes it. User fencing makes every duplication function refuse."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from envclone.domain.duplication import USER_FENCING_KEY, RestorationRequest
from envclone.errors import EnvcloneError
from envclone.services import duplications, storage_service
from envclone.services import environment as settings_service
from envclone.services.context import ServiceContext
from envclone.store import server_state
from tests.unit.duplicate._content import ADMIN, VIEWER, environment, request, seed


@pytest.fixture
def ctx(tmp_path: Path) -> ServiceContext:
    return environment(tmp_path / "env")


def refused(ctx: ServiceContext, config: dict[str, object], code: str) -> str:
    with pytest.raises(EnvcloneError) as caught:
        storage_service.update(ctx, ADMIN, config)
    assert (caught.value.code, caught.value.status) == (code, 400), caught.value.message
    with pytest.raises(EnvcloneError) as again:
        storage_service.validate(ctx, ADMIN, config)
    assert again.value.code == code
    return caught.value.message


def test_unset_by_default_and_a_folder_once_configured(ctx: ServiceContext, tmp_path: Path) -> None:
    assert storage_service.get_config(ctx, VIEWER) == {
        "type": "unset", "alias": "", "location": "", "s3Region": "", "configured": False,
    }  # fmt: skip
    folder = tmp_path / "shared"
    folder.mkdir()
    storage_service.validate(ctx, ADMIN, {"type": "file_system", "location": str(folder)})
    shown = storage_service.update(ctx, ADMIN, {"type": "file_system", "location": str(folder), "alias": "nas"})
    assert shown == {"type": "file_system", "alias": "nas", "location": str(folder), "s3Region": "", "configured": True}
    assert storage_service.update(ctx, ADMIN, {"alias": "share"})["location"] == str(folder)  # PATCH keeps the rest
    assert storage_service.update(ctx, ADMIN, {"type": "unset"})["configured"] is False


def test_bad_folders_and_object_stores_are_refused_clearly(ctx: ServiceContext, tmp_path: Path) -> None:
    assert "absolute" in refused(ctx, {"type": "file_system", "location": "relative/dir"}, "storage_invalid")
    missing = str(tmp_path / "missing")
    assert "not an existing folder" in refused(ctx, {"type": "file_system", "location": missing}, "storage_invalid")
    assert "required" in refused(ctx, {"type": "file_system"}, "storage_invalid")
    azure = {"type": "Azure", "location": "account", "azureSecretKey": "x"}
    assert "Azure" in refused(ctx, azure, "storage_unsupported")
    assert "required" in refused(ctx, {"type": "S3", "awsAccessId": "id", "awsSecretKey": "x"}, "storage_invalid")
    assert "bucket name" in refused(ctx, {"type": "S3", "location": "No_Such!"}, "storage_invalid")
    refused(ctx, {"type": "ftp"}, "storage_invalid")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        refused(ctx, {"type": "file_system", "location": str(locked)}, "storage_invalid")
    assert storage_service.get_config(ctx, ADMIN)["configured"] is False


def test_secrets_are_never_kept_and_only_an_administrator_changes_it(ctx: ServiceContext, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    shown = storage_service.update(
        ctx, ADMIN, {"type": "file_system", "location": str(folder), "awsSecretKey": "s3cr3t", "awsAccessId": "id"}
    )
    assert "awsSecretKey" not in shown
    with ctx.db.read() as conn:
        assert "s3cr3t" not in str(server_state.get(conn, storage_service.STATE_KEY))
    for call in (storage_service.update, storage_service.validate):
        with pytest.raises(EnvcloneError) as caught:
            call(ctx, VIEWER, {"type": "unset"})
        assert caught.value.status == 403


def test_user_fencing_refuses_every_duplication_function(ctx: ServiceContext) -> None:
    seed(ctx)
    with pytest.raises(EnvcloneError, match="true or false"):
        settings_service.update_settings(ctx, ADMIN, {USER_FENCING_KEY: "yes"})
    assert settings_service.update_settings(ctx, ADMIN, {USER_FENCING_KEY: True})[USER_FENCING_KEY] is True
    metadata = RestorationRequest.model_validate(
        {"target": {"environment": {"id": "http://b", "name": "B"}, "project": {"name": "R"}}}
    )
    calls = [
        lambda: duplications.start(ctx, ADMIN, request()),
        lambda: duplications.start_target(ctx, ADMIN, "F8F1280022A444C5A10B3445B552E33A", request()),
        lambda: duplications.restore(ctx, ADMIN, io.BytesIO(b"x"), metadata),
        lambda: duplications.get(ctx, ADMIN, "F8F1280022A444C5A10B3445B552E33A"),
        lambda: duplications.list_records(ctx, ADMIN, 0, 10),
        lambda: duplications.cancel(ctx, ADMIN, "F8F1280022A444C5A10B3445B552E33A"),
        lambda: duplications.delete(ctx, ADMIN, "F8F1280022A444C5A10B3445B552E33A"),
        lambda: duplications.package(ctx, ADMIN, "F8F1280022A444C5A10B3445B552E33A"),
    ]
    for call in calls:
        with pytest.raises(EnvcloneError) as caught:
            call()
        assert (caught.value.code, caught.value.status) == ("user_fencing", 403)
        assert "disable user fencing" in caught.value.message
    settings_service.update_settings(ctx, ADMIN, {USER_FENCING_KEY: False})
    assert duplications.list_records(ctx, ADMIN, 0, 10) == ([], 0)
