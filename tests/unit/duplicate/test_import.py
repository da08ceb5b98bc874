"""The import side: a package restored on an environment with configuration objects of its own,
by the conflict rules (use-existing, replace, merge), matchUsersByLogin both ways and
typesMatchByName; the project's references follow a renamed login; locales and description; no
other component changes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from envclone.archive import export_archive
from envclone.content.digest import component_digest
from envclone.domain.components import Component
from envclone.domain.duplication import DuplicationStatus, RestorationRequest
from envclone.services import duplications
from envclone.services.context import ServiceContext
from envclone.store import duplications as repo
from envclone.store import tables
from envclone.store.repository import TableRepository
from tests.unit.duplicate._content import (
    ADMIN,
    CONNECTION,
    GROUP_ALL,
    GROUP_SALES,
    INSTANCE,
    REPORT,
    ROLE_ANALYST,
    USER_ANN,
    USER_BOB,
    environment,
    ids,
    request,
    rows,
    seed,
)

OTHER_BOB, OTHER_CONNECTION = ids("9B"), ids("9C")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    source = environment(Path(tmp_path_factory.mktemp("source")))
    seed(source)
    settings = {"export": {"configurationObjects": {"rules": [{"type": 5, "rule": 3}]}}}
    started = duplications.start(source, ADMIN, request("Scratch", settings=settings))
    source.engine.wait(started.operation_id, timeout=60)
    with source.db.read() as conn:
        manifest_id = str((repo.find(conn, started.id) or {})["manifest_id"])
    out = io.BytesIO()
    export_archive(source.blobs, manifest_id, out)
    return out.getvalue()


def target_env(path: Path) -> ServiceContext:
    ctx = environment(path)
    mine = [
        {"id": USER_ANN, "type": 34, "subtype": 8704, "name": "ann", "description": "Ann here",
         "definition": {"memberOf": [GROUP_ALL]}},
        {"id": OTHER_BOB, "type": 34, "subtype": 8704, "name": "bob", "description": "Another Bob",
         "definition": {}},
        {"id": ROLE_ANALYST, "type": 44, "subtype": 11264, "name": "Analyst", "description": "",
         "definition": {"privileges": [3, 4]}},
        {"id": INSTANCE, "type": 29, "subtype": 7424, "name": "DW", "description": "mine",
         "definition": {"connection": "Local"}},
        {"id": OTHER_CONNECTION, "type": 31, "subtype": 7936, "name": "DW Connection", "description": "here",
         "definition": {"host": "local-db"}},
    ]  # fmt: skip
    with ctx.db.begin() as conn:
        TableRepository(tables.config_objects).insert_many(conn, mine)
    return ctx


def restore(ctx: ServiceContext, data: bytes, settings: dict[str, Any]) -> str:
    metadata = RestorationRequest.model_validate(
        {"target": {"environment": {"id": "http://b", "name": "B"}, "project": {"name": "Imported"}},
         "settings": {"import": settings}}
    )  # fmt: skip
    started = duplications.restore(ctx, ADMIN, io.BytesIO(data), metadata)
    ctx.engine.wait(started.operation_id, timeout=60)
    done = duplications.get(ctx, ADMIN, started.id)
    assert done.status is DuplicationStatus.COMPLETED, done.message
    return str(done.target["project"]["id"])


def config(ctx: ServiceContext) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows(ctx, tables.config_objects)}


def test_rules_merge_replace_use_existing_and_a_second_bob(package: bytes, tmp_path: Path) -> None:
    ctx = target_env(tmp_path / "b")
    with ctx.db.read() as conn:
        before = {c: component_digest(conn, c) for c in (Component.USERS, Component.SETTINGS, Component.JOBS)}
    rules = [{"type": 34, "rule": 6}, {"type": 44, "rule": 6}, {"type": 29, "rule": 2}]
    project_id = restore(ctx, package, {"configurationObjects": {"conflictRules": rules}, "locales": [2052, 0]})
    found = config(ctx)
    assert found[USER_ANN]["definition"] == {"memberOf": [GROUP_ALL, GROUP_SALES]}  # merged
    assert found[USER_ANN]["description"] == "Ann here"
    assert found[ROLE_ANALYST]["definition"] == {"privileges": [3, 4, 1, 2]}
    assert found[INSTANCE]["definition"] == {"connection": "DW Connection", "login": "DW Login"}  # replaced
    assert found[CONNECTION]["name"] == "DW Connection"  # by id: a second one, inserted
    # matchUsersByLogin false: both bobs, the source's renamed, and the project follows the rename.
    assert found[OTHER_BOB]["name"] == "bob" and found[USER_BOB]["name"] == "bob_2"
    (report,) = rows(ctx, tables.metadata_objects, project_id=project_id, id=REPORT)
    assert {"trustee": "bob_2", "kind": "user", "rights": 255} in report["acl"]
    (project,) = rows(ctx, tables.projects, id=project_id)
    assert (project["description"], project["default_locale"]) == ("the tutorial", 1033)
    region = next(o for o in rows(ctx, tables.metadata_objects, project_id=project_id) if o["name"] == "Region")
    assert set(region["translations"]) == {"1033", "2052"}
    with ctx.db.read() as conn:
        assert {c: component_digest(conn, c) for c in before} == before


def test_match_users_by_login_adopts_the_id_here_and_types_match_by_name(package: bytes, tmp_path: Path) -> None:
    ctx = target_env(tmp_path / "b")
    settings = {"configurationObjects": {"conflictRules": [{"type": 0, "rule": 2}], "matchUsersByLogin": True},
                "typesMatchByName": [31]}  # fmt: skip
    project_id = restore(ctx, package, settings)
    found = config(ctx)
    assert USER_BOB not in found and found[OTHER_BOB]["description"] == "Bob"  # adopted, then replaced
    assert CONNECTION not in found and found[OTHER_CONNECTION]["definition"] == {"host": "db"}
    (report,) = rows(ctx, tables.metadata_objects, project_id=project_id, id=REPORT)
    assert {"trustee": "bob", "kind": "user", "rights": 255} in report["acl"]
    assert found[ROLE_ANALYST]["definition"] == {"privileges": [1, 2, 3]}  # type 0: replace everywhere


def test_use_existing_is_the_default_and_merge_elsewhere_falls_back_to_it(package: bytes, tmp_path: Path) -> None:
    ctx = target_env(tmp_path / "b")
    restore(ctx, package, {"configurationObjects": {"conflictRules": [{"type": 29, "rule": 6}]}})
    found = config(ctx)
    assert found[INSTANCE]["definition"] == {"connection": "Local"}
    assert found[USER_ANN]["definition"] == {"memberOf": [GROUP_ALL]}
    assert found[ROLE_ANALYST]["definition"] == {"privileges": [3, 4]}
    assert GROUP_SALES in found  # no conflict: inserted
