"""What the package holds by the export settings: schema objects only, profile folders skipped,
subscriptions by kind, configuration objects by the type 5 and 34 rules with project-related
made precise (module docstring of operations.duplicate.selection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envclone.archive import ArchiveReader, ArchiveWriter
from envclone.domain.duplication import ExportSettings
from envclone.operations.duplicate.package import ARTIFACT_TABLES, CONFIG_TABLES, read_table
from envclone.operations.duplicate.selection import export_project
from envclone.services.context import ServiceContext
from tests.unit.duplicate._content import (
    ATTRIBUTE,
    CONNECTION,
    GROUP_ALL,
    GROUP_SALES,
    INSTANCE,
    LOGIN,
    PROJECT_ID,
    ROLE_ANALYST,
    SCHEDULE,
    SCHEMA_FOLDER,
    TABLE,
    UNRELATED,
    USER_ANN,
    USER_BOB,
    USER_CAT,
    config_objects,
    environment,
    objects,
    seed,
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ServiceContext:
    env = environment(Path(tmp_path_factory.mktemp("selection")))
    seed(env)
    return env


def exported(ctx: ServiceContext, settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    with ctx.db.snapshot() as conn, ArchiveWriter(ctx.blobs) as writer:
        export_project(conn, writer, PROJECT_ID, ExportSettings.model_validate(settings))
        manifest = writer.finish()
    with ArchiveReader(ctx.blobs, manifest) as reader:
        return {t.name: list(read_table(reader, t)) for t in (*ARTIFACT_TABLES, *CONFIG_TABLES)}


def config_ids(ctx: ServiceContext, settings: dict[str, Any]) -> set[str]:
    return {r["id"] for r in exported(ctx, {"configurationObjects": settings})["config_objects"]}


def test_defaults_take_every_object_and_profile_folder_no_subscription_and_the_related_configuration(
    ctx: ServiceContext,
) -> None:
    held = exported(ctx, {})
    assert [p["id"] for p in held["projects"]] == [PROJECT_ID]
    assert {o["id"] for o in held["metadata_objects"]} == {o["id"] for o in objects()}
    assert "project_id" not in held["metadata_objects"][0]
    assert len(held["profile_folders"]) == 2 and held["subscriptions"] == []
    # ann owns the project and its objects, bob and Sales are ACL trustees; the table's definition
    # names the instance, whose definition names its connection and login.
    assert {r["id"] for r in held["config_objects"]} == {USER_ANN, USER_BOB, GROUP_SALES, INSTANCE, CONNECTION, LOGIN}


def test_subscriptions_by_kind_bring_their_owners_and_schedules(ctx: ServiceContext) -> None:
    users = exported(ctx, {"subscriptionPreferences": {"includeUserSubscriptions": True}})
    assert [s["kind"] for s in users["subscriptions"]] == ["user"]
    assert {USER_CAT, SCHEDULE} <= {r["id"] for r in users["config_objects"]}
    contacts = exported(ctx, {"subscriptionPreferences": {"includeContactSubscriptions": True}})
    assert [s["kind"] for s in contacts["subscriptions"]] == ["contact"]
    assert USER_CAT not in {r["id"] for r in contacts["config_objects"]}
    both = {"includeUserSubscriptions": True, "includeContactSubscriptions": True}
    assert len(exported(ctx, {"subscriptionPreferences": both})["subscriptions"]) == 2


def test_schema_objects_only_keeps_them_and_their_folders_and_drops_what_points_elsewhere(ctx: ServiceContext) -> None:
    held = exported(
        ctx,
        {"projectObjectsPreference": {"schemaObjectsOnly": True},
         "subscriptionPreferences": {"includeUserSubscriptions": True, "includeContactSubscriptions": True}},
    )  # fmt: skip
    assert {o["id"] for o in held["metadata_objects"]} == {SCHEMA_FOLDER, ATTRIBUTE, TABLE}
    assert held["subscriptions"] == []  # their report is not exported


def test_profile_folders_empty_ones_or_all_skipped(ctx: ServiceContext) -> None:
    empty_skipped = exported(ctx, {"projectObjectsPreference": {"skipEmptyProfileFolders": True}})
    assert [p["name"] for p in empty_skipped["profile_folders"]] == ["Ann Profile"]  # holds "My report"
    all_skipped = exported(ctx, {"projectObjectsPreference": {"skipAllProfileFolders": True}})
    assert all_skipped["profile_folders"] == []


def test_configuration_rules_on_types_5_and_34(ctx: ServiceContext) -> None:
    every = {r["id"] for r in config_objects()}
    assert config_ids(ctx, {"rules": [{"type": 5, "rule": 3}]}) == every
    # 34 overrides 5 for users and groups: none of them, the related rest.
    no_principals = config_ids(ctx, {"rules": [{"type": 5, "rule": 1}, {"type": 34, "rule": 0}]})
    assert no_principals == {INSTANCE, CONNECTION, LOGIN}
    # The whole group structure and no user.
    no_users = config_ids(ctx, {"rules": [{"type": 34, "rule": 0}], "includeAllUserGroups": True})
    assert no_users == {GROUP_SALES, GROUP_ALL, INSTANCE, CONNECTION, LOGIN}
    selected = config_ids(ctx, {"rules": [{"type": 34, "rule": 2}], "objects": [USER_CAT, ROLE_ANALYST]})
    assert selected == {USER_CAT, INSTANCE, CONNECTION, LOGIN}  # the list selects type 34 only
    all_users = config_ids(ctx, {"rules": [{"type": 5, "rule": 1}, {"type": 34, "rule": 3}]})
    assert all_users == {USER_ANN, USER_BOB, USER_CAT, GROUP_SALES, GROUP_ALL, INSTANCE, CONNECTION, LOGIN}
    assert UNRELATED not in config_ids(ctx, {})
