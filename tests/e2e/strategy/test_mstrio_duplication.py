"""Strategy's own Python SDK (mstrio-py, unchanged) driving project duplication on two real servers
sharing a folder: the Environment's storage service, Project.duplicate within one environment,
duplicate_to_other_environment synced through the storage service and manual (get_backup_package,
restore_package_on_target_environment), Project.restore_project_from_backup,
list_projects_duplications, cancel and delete; each time the target's content is checked, not
only the status. Skipped where mstrio-py is not installed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import (
    LIBRARY,
    OTHER_ROLE,
    RELATED_ROLE,
    SELECTED_USERS,
    Library,
    Project,
    config_ids,
    make_project,
    objects,
    project_named,
    sample,
    start_library,
)

mstrio = pytest.importorskip("mstrio")

from mstrio.api import projects as projects_api  # noqa: E402
from mstrio.connection import Connection  # noqa: E402
from mstrio.server import Environment  # noqa: E402
from mstrio.server.project import (  # noqa: E402
    CrossDuplicationConfig,
    DuplicationConfig,
    ProjectDuplication,
    ProjectDuplicationStatus,
    list_projects_duplications,
)
from mstrio.server.project import Project as SdkProject  # noqa: E402
from mstrio.server.storage import StorageType  # noqa: E402

WAIT = {"timeout": 90, "interval": 1}


@pytest.fixture(scope="module")
def lib(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"))


def connect(server: LiveServer) -> Connection:
    return Connection(server.url + LIBRARY, ADMIN, ADMIN_PASSWORD, login_mode=1)


@pytest.fixture(scope="module")
def conns(lib: Library) -> Iterator[tuple[Connection, Connection]]:
    source, target = connect(lib.source), connect(lib.target)
    yield source, target
    source.close()
    target.close()


def sdk_config(**extra: Any) -> dict[str, Any]:
    return {"import_description": "via mstrio", "import_default_locale": 2052, "import_locales": [1033, 2052], **extra}


SCHEMA_ONLY = {"Schema Objects", "Region"}  # the SDK's default: schemaObjectsOnly


def check_content(
    source: httpx.Client, admin: httpx.Client, project: Project, name: str, *, schema_only: bool = True
) -> dict[str, Any]:
    """The project ``name`` holds the source's objects (its schema objects only, the SDK's
    default), the locales asked for, the description given."""
    made = project_named(admin, name)
    assert made is not None, f"no project {name!r}"
    assert (made["description"], made["default_locale"]) == ("via mstrio", 2052)
    copied = objects(admin, made["id"])
    assert set(copied) == (SCHEMA_ONLY if schema_only else set(objects(source, project.id)))
    assert set(copied["Region"]["translations"]) == {"1033", "2052"}
    return made


def test_the_storage_service_through_the_environment(lib: Library, conns: tuple[Connection, Connection]) -> None:
    source, _ = conns
    environment = Environment(source)
    assert environment.storage_service.configured is True
    environment.update_storage_service(storage_type=StorageType.FILE_SYSTEM, alias="via sdk", location=str(lib.shared))
    assert (environment.storage_service.alias, environment.storage_service.location) == ("via sdk", str(lib.shared))
    assert environment.storage_service.type is StorageType.FILE_SYSTEM
    with pytest.raises(Exception, match=r"(?i)storage|valid"):
        environment.update_storage_service(location=str(lib.shared / "missing"), validate_only=True)
    assert ok(lib.src.get("/mstrServices/library/storage"))["sharedFileStore"]["location"] == str(lib.shared)


def test_duplicate_within_the_environment(lib: Library, conns: tuple[Connection, Connection]) -> None:
    source, _ = conns
    project, name = make_project(lib.src_admin), f"SDK copy {tag()}"
    config = DuplicationConfig(**sdk_config(schema_objects_only=False))
    duplication = SdkProject(source, id=project.id).duplicate(name, config)
    assert duplication.status in (ProjectDuplicationStatus.EXPORTING, ProjectDuplicationStatus.IMPORTING,
                                  ProjectDuplicationStatus.COMPLETED)  # fmt: skip
    duplication.wait_for_stable_status(**WAIT)
    assert duplication.status is ProjectDuplicationStatus.COMPLETED and duplication.progress == 100
    made = check_content(lib.src_admin, lib.src_admin, project, name, schema_only=False)
    assert duplication.target.project["id"] == made["id"]

    listed = list_projects_duplications(source)
    assert duplication.id in {d.id for d in listed}
    assert ProjectDuplication(source, id=duplication.id).status is ProjectDuplicationStatus.COMPLETED
    assert duplication.delete(force=True) is True
    assert duplication.id not in {d.id for d in list_projects_duplications(source)}


def test_duplicate_to_the_other_environment_through_the_storage_service(
    lib: Library, conns: tuple[Connection, Connection]
) -> None:
    source, target = conns
    project, name = make_project(lib.src_admin), f"SDK synced {tag()}"
    # The SDK sends its admin_objects_rules as conflict rules (under export and import) and no export
    # rules: configuration objects go by type 5's default, project-related.
    config = CrossDuplicationConfig(**sdk_config(schema_objects_only=False, admin_objects=list(SELECTED_USERS),
                                                  admin_objects_rules=[{"type": 44, "rule": 2}]))  # fmt: skip
    duplication = SdkProject(source, id=project.id).duplicate_to_other_environment(name, target, config)
    duplication.wait_for_stable_status(**WAIT)
    assert duplication.status is ProjectDuplicationStatus.EXPORTED
    on_target = ProjectDuplication(target, id=duplication.id)
    on_target.wait_for_stable_status(**WAIT)
    assert on_target.status is ProjectDuplicationStatus.COMPLETED, on_target.message
    made = check_content(lib.src_admin, lib.tgt_admin, project, name, schema_only=False)
    assert on_target.target.project["id"] == made["id"]
    assert isinstance(on_target.settings, CrossDuplicationConfig)
    assert on_target.settings.admin_objects_rules and on_target.settings.admin_objects_rules[0].rule == 2
    roles, users = config_ids(lib.tgt_admin, 44), config_ids(lib.tgt_admin, 34)
    assert RELATED_ROLE in roles and OTHER_ROLE not in roles  # the report refers to the first only
    assert not set(SELECTED_USERS) & users  # listed, but no export rule selects users by the list


def test_manual_duplication_with_the_package(
    lib: Library, conns: tuple[Connection, Connection], tmp_path: Path
) -> None:
    source, target = conns
    project, name = make_project(lib.src_admin), f"SDK manual {tag()}"
    sdk_project = SdkProject(source, id=project.id)
    duplication = sdk_project.duplicate_to_other_environment(
        name, target, CrossDuplicationConfig(**sdk_config()), sync_with_target_env=False
    )
    duplication.wait_for_stable_status(**WAIT)
    assert duplication.status is ProjectDuplicationStatus.EXPORTED
    saved = duplication.get_backup_package(save_to_file=True, save_path=str(tmp_path))
    assert isinstance(saved, dict)
    assert Path(str(saved["filepath"])).name == f"{duplication.id}.projdup"
    assert Path(str(saved["filepath"])).read_bytes() == saved["file_binary"]

    restored = duplication.restore_package_on_target_environment(target)
    restored.wait_for_stable_status(**WAIT)
    assert restored.status is ProjectDuplicationStatus.COMPLETED, restored.message
    check_content(lib.src_admin, lib.tgt_admin, project, name)

    again = f"SDK from backup {tag()}"
    from_file = SdkProject.restore_project_from_backup(
        target, str(saved["filepath"]), again, CrossDuplicationConfig(**sdk_config())
    )
    from_file.wait_for_stable_status(**WAIT)
    assert from_file.status is ProjectDuplicationStatus.COMPLETED, from_file.message
    check_content(lib.src_admin, lib.tgt_admin, project, again)


def test_cancel_a_waiting_target_side(lib: Library, conns: tuple[Connection, Connection]) -> None:
    _, target = conns
    body = sample(lib.env(lib.source), lib.env(lib.target), make_project(lib.src_admin), f"SDK never {tag()}")
    dup_id = uuid.uuid4().hex.upper()
    projects_api.trigger_project_duplication_on_target_env(target, dup_id, body)
    waiting = ProjectDuplication(target, id=dup_id)
    assert waiting.status is ProjectDuplicationStatus.IMPORT_SYNCING
    assert waiting.cancel() is True
    waiting.wait_for_stable_status(**WAIT)
    assert waiting.status is ProjectDuplicationStatus.CANCELLED
    assert project_named(lib.tgt_admin, body["target"]["project"]["name"]) is None
    assert waiting.delete(force=True) is True
