"""Two in-process environments (two databases and blob stores) sharing one storage service folder:
the source exports and syncs, the target syncs and imports; a re-duplication after a small change
moves only the changed chunks; the package downloads from the exported source and restores on
another environment."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from envclone.domain.duplication import DuplicationStatus, RestorationRequest, Role
from envclone.errors import EnvcloneError
from envclone.services import duplications, storage_service
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.repository import TableRepository
from tests.unit.duplicate._content import (
    ADMIN,
    ENV_B,
    PROJECT_ID,
    REPORT,
    USER_ANN,
    environment,
    request,
    rows,
    wait,
)


def duplicate(source: ServiceContext, target: ServiceContext, name: str) -> tuple[str, dict[str, object]]:
    body = request(name, target_env=ENV_B, settings={"export": {"configurationObjects": {"rules": [
        {"type": 5, "rule": 1}, {"type": 34, "rule": 3}]}}})  # fmt: skip
    started = duplications.start(source, ADMIN, body)
    assert started.role is Role.SOURCE
    on_target = duplications.start_target(target, ADMIN, started.id, body)
    assert on_target.role is Role.TARGET and on_target.id == started.id
    assert on_target.target["project"]["id"] == started.target["project"]["id"]
    exported, completed = wait(source, started.id), wait(target, started.id)
    assert exported.status is DuplicationStatus.EXPORTED, exported.message
    assert completed.status is DuplicationStatus.COMPLETED, completed.message
    return started.id, source.engine.get(exported.operation_id).result


def test_the_target_gets_the_project_and_a_second_run_moves_only_changed_chunks(
    pair: tuple[ServiceContext, ServiceContext],
) -> None:
    source, target = pair
    dup_id, first = duplicate(source, target, "Copy One")
    new_id = duplications.get(target, ADMIN, dup_id).target["project"]["id"]
    copied = {o["id"] for o in rows(target, tables.metadata_objects, project_id=new_id)}
    assert copied == {o["id"] for o in rows(source, tables.metadata_objects, project_id=PROJECT_ID)}
    assert {u["name"] for u in rows(target, tables.config_objects, type=34, subtype=8704)} == {"ann", "bob", "cat"}
    assert int(str(first["chunksSynced"])) > 0

    with source.db.begin() as conn:  # a small change, then the same duplication again
        TableRepository(tables.metadata_objects).update(
            conn, {"project_id": PROJECT_ID, "id": REPORT}, {"name": "Sales by Region (new)"}
        )
    _, second = duplicate(source, target, "Copy Two")
    assert 0 < int(str(second["chunksSynced"])) < int(str(first["chunksSynced"]))


def test_the_same_id_twice_on_the_target_is_a_conflict_and_a_bad_id_is_invalid(
    pair: tuple[ServiceContext, ServiceContext],
) -> None:
    source, target = pair
    dup_id, _ = duplicate(source, target, "Copy")
    with pytest.raises(EnvcloneError) as caught:
        duplications.start_target(target, ADMIN, dup_id, request("Another", target_env=ENV_B))
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    with pytest.raises(EnvcloneError) as caught:
        duplications.start_target(target, ADMIN, "not-an-id", request("Another", target_env=ENV_B))
    assert caught.value.code == "invalid_request"


def test_the_exported_package_downloads_and_restores_elsewhere(
    pair: tuple[ServiceContext, ServiceContext], tmp_path: Path
) -> None:
    source, target = pair
    dup_id, _ = duplicate(source, target, "Copy")
    download = duplications.package(source, ADMIN, dup_id)
    assert download.filename == f"{dup_id}.projdup"
    data = b"".join(download.chunks)
    assert len(data) == download.size
    with pytest.raises(EnvcloneError) as caught:  # only the source side has the package
        duplications.package(target, ADMIN, dup_id)
    assert caught.value.status == 409

    third = environment(tmp_path / "c")
    metadata = RestorationRequest.model_validate(
        {"target": {"environment": {"id": "http://c.example.com", "name": "C"}, "project": {"name": "Restored"}},
         "settings": {"import": {"configurationObjects": {"conflictRules": [{"type": 0, "rule": 2}]}}}}
    )  # fmt: skip
    restored = duplications.restore(third, ADMIN, io.BytesIO(data), metadata)
    assert restored.role is Role.TARGET and restored.id != dup_id
    assert restored.source["project"]["id"] == PROJECT_ID
    done = wait(third, restored.id)
    assert done.status is DuplicationStatus.COMPLETED, done.message
    (project,) = rows(third, tables.projects, name="Restored")
    assert len(rows(third, tables.metadata_objects, project_id=project["id"])) == len(
        rows(source, tables.metadata_objects, project_id=PROJECT_ID)
    )
    assert rows(third, tables.config_objects, id=USER_ANN)


def test_delete_removes_the_record_and_the_package(pair: tuple[ServiceContext, ServiceContext]) -> None:
    source, target = pair
    dup_id, _ = duplicate(source, target, "Copy")
    shared = Path(storage_service.folder(source) or "")
    assert (shared / "duplications" / f"{dup_id}.json").exists()
    duplications.delete(source, ADMIN, dup_id)
    assert not (shared / "duplications" / f"{dup_id}.json").exists()
    with pytest.raises(EnvcloneError) as caught:
        duplications.get(source, ADMIN, dup_id)
    assert caught.value.status == 404
    duplications.delete(target, ADMIN, dup_id)
    assert duplications.list_records(target, ADMIN, 0, 10) == ([], 0)


def test_a_target_whose_source_never_publishes_fails_after_the_timeout(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = environment(tmp_path / "b", duplication_sync_timeout_seconds=0.5)
    storage_service.update(target, ADMIN, {"type": "file_system", "location": str(shared)})
    dup_id = "C17A7B510F8A4B74B6B19F168106921E"
    duplications.start_target(target, ADMIN, dup_id, request(target_env=ENV_B))
    done = wait(target, dup_id)
    assert done.status is DuplicationStatus.IMPORT_FAILED
    assert "did not publish" in done.message and "storage service" in done.message
    assert rows(target, tables.projects) == []
