"""A duplication inside one environment, through the service: the new project holds the source's
objects under its own id and name, the chosen locales only, and nothing else in the environment
changes; the errors of the document's table come before anything is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.content.digest import component_digest
from envclone.domain.components import Component
from envclone.domain.duplication import DuplicationStatus, Role
from envclone.errors import EnvcloneError
from envclone.services import duplications
from envclone.services.context import ServiceContext
from envclone.store import tables
from tests.conftest import BACKENDS, database_url
from tests.unit.duplicate._content import ADMIN, PROJECT_ID, VIEWER, environment, request, rows, seed


@pytest.fixture(params=BACKENDS)
def ctx(tmp_path: Path, request: pytest.FixtureRequest) -> ServiceContext:
    env = environment(tmp_path / "env", database_url=database_url(request.param, tmp_path, request))
    seed(env)
    return env


def finish(ctx: ServiceContext, dup_id: str) -> duplications.DuplicationRecord:
    record = duplications.get(ctx, ADMIN, dup_id)
    ctx.engine.wait(record.operation_id, timeout=60)
    return duplications.get(ctx, ADMIN, dup_id)


def test_same_environment_duplication_makes_the_project_with_its_objects(ctx: ServiceContext) -> None:
    with ctx.db.read() as conn:
        users_before = component_digest(conn, Component.USERS)
    settings = {"import": {"description": "copy", "defaultLocale": 2052, "locales": [1033, 2052]}}
    started = duplications.start(ctx, ADMIN, request(settings=settings))
    assert started.role is Role.LOCAL
    assert started.id == started.operation_id and len(started.id) == 32 and started.id.upper() == started.id
    assert started.status in (DuplicationStatus.EXPORTING, DuplicationStatus.IMPORTING, DuplicationStatus.COMPLETED)
    done = finish(ctx, started.id)
    assert done.status is DuplicationStatus.COMPLETED, done.message
    assert done.progress == 100
    new_id = done.target["project"]["id"]
    assert new_id != PROJECT_ID
    (project,) = rows(ctx, tables.projects, id=new_id)
    assert (project["name"], project["description"], project["default_locale"]) == ("Target Project", "copy", 2052)
    source_objects = {o["id"]: o for o in rows(ctx, tables.metadata_objects, project_id=PROJECT_ID)}
    copied = {o["id"]: o for o in rows(ctx, tables.metadata_objects, project_id=new_id)}
    assert set(copied) == set(source_objects)
    region = next(o for o in copied.values() if o["name"] == "Region")
    assert set(region["translations"]) == {"1033", "2052"}  # 1036 was not asked for
    # The source project is as it was, and the users component was not touched.
    assert rows(ctx, tables.projects, id=PROJECT_ID)[0]["name"] == "Tutorial"
    with ctx.db.read() as conn:
        assert component_digest(conn, Component.USERS) == users_before


def test_the_asked_project_id_is_used_and_a_taken_name_or_id_is_refused(ctx: ServiceContext) -> None:
    wanted = "0123456789ABCDEF0123456789ABCDEF"
    done = finish(ctx, duplications.start(ctx, ADMIN, request("Copy A", target_id=wanted)).id)
    assert done.status is DuplicationStatus.COMPLETED and done.target["project"]["id"] == wanted
    assert rows(ctx, tables.projects, id=wanted)
    for again in (request("Tutorial"), request("Other", target_id=wanted)):
        with pytest.raises(EnvcloneError) as caught:
            duplications.start(ctx, ADMIN, again)
        assert (caught.value.code, caught.value.status) == ("project_name_exists", 409)


def test_an_unknown_source_project_is_404_and_a_viewer_may_not_start(ctx: ServiceContext) -> None:
    bad = request()
    bad = bad.model_copy(update={"source": bad.source.model_copy(update={"project": bad.source.project.model_copy(
        update={"id": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"})})})  # fmt: skip
    with pytest.raises(EnvcloneError) as caught:
        duplications.start(ctx, ADMIN, bad)
    assert (caught.value.code, caught.value.status) == ("project_not_found", 404)
    with pytest.raises(EnvcloneError) as caught:
        duplications.start(ctx, VIEWER, request())
    assert caught.value.status == 403
    assert duplications.list_records(ctx, ADMIN, 0, 10) == ([], 0)


def test_cross_environment_without_a_storage_service_says_how_to_configure_one(ctx: ServiceContext) -> None:
    with pytest.raises(EnvcloneError) as caught:
        duplications.start(ctx, ADMIN, request(target_env="http://b.example.com/MicroStrategyLibrary"))
    assert (caught.value.code, caught.value.status) == ("storage_not_configured", 400)
    assert "PATCH /api/mstrServices/library/storage" in caught.value.message
    assert "file_system" in caught.value.message


def test_list_is_newest_first_with_the_total(ctx: ServiceContext) -> None:
    first = finish(ctx, duplications.start(ctx, ADMIN, request("One")).id)
    second = finish(ctx, duplications.start(ctx, ADMIN, request("Two")).id)
    listed, total = duplications.list_records(ctx, ADMIN, 0, 10)
    assert total == 2 and [r.id for r in listed] == [second.id, first.id]
    page, total = duplications.list_records(ctx, VIEWER, 1, 1)
    assert total == 2 and [r.id for r in page] == [first.id]
    with pytest.raises(EnvcloneError):
        duplications.list_records(ctx, ADMIN, -1, 10)


def test_a_name_taken_meanwhile_fails_the_import_and_changes_nothing(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplications, "check_free", lambda *_args: None)  # as if taken after the start
    before = (rows(ctx, tables.projects), len(rows(ctx, tables.metadata_objects)), rows(ctx, tables.config_objects))
    done = finish(ctx, duplications.start(ctx, ADMIN, request("Tutorial")).id)
    assert done.status is DuplicationStatus.IMPORT_FAILED
    assert "already exists" in done.message
    after = (rows(ctx, tables.projects), len(rows(ctx, tables.metadata_objects)), rows(ctx, tables.config_objects))
    assert after == before


def test_a_source_project_gone_meanwhile_is_export_failed(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duplications, "find_project", lambda *_args: None)
    bad = request()
    bad = bad.model_copy(update={"source": bad.source.model_copy(update={"project": bad.source.project.model_copy(
        update={"id": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"})})})  # fmt: skip
    done = finish(ctx, duplications.start(ctx, ADMIN, bad).id)
    assert done.status is DuplicationStatus.EXPORT_FAILED
    assert "not found" in done.message
