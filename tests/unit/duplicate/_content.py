"""A small project to duplicate, written straight into an in-process environment's database, and
the users who act on it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from envclone.domain.duplication import DuplicationRequest, DuplicationStatus
from envclone.domain.principal import Principal
from envclone.services import duplications
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.repository import TableRepository
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator"})
VIEWER = Principal.of("viewer", {"Viewer"})
PROJECT_ID = "B7CA92F04B9FAE8D941C3E9B7E0CD754"
ENV_A, ENV_B = "http://a.example.com/MicroStrategyLibrary", "http://b.example.com/MicroStrategyLibrary"


def hex32() -> str:
    return uuid.uuid4().hex.upper()


def ids(prefix: str) -> str:
    """A readable fixed id: the prefix padded to 32 hex digits."""
    return (prefix + "0" * 32)[:32]


USER_ANN, USER_BOB, USER_CAT = ids("A1"), ids("B1"), ids("C1")
GROUP_SALES, GROUP_ALL = ids("D1"), ids("D2")
ROLE_ANALYST = ids("E1")
INSTANCE, CONNECTION, LOGIN = ids("F1"), ids("F2"), ids("F3")
SCHEDULE = ids("F4")
UNRELATED = ids("F5")


def config_objects() -> list[dict[str, Any]]:
    return [
        {"id": USER_ANN, "type": 34, "subtype": 8704, "name": "ann", "description": "Ann",
         "definition": {"memberOf": [GROUP_SALES]}},
        {"id": USER_BOB, "type": 34, "subtype": 8704, "name": "bob", "description": "Bob", "definition": {}},
        {"id": USER_CAT, "type": 34, "subtype": 8704, "name": "cat", "description": "Cat", "definition": {}},
        {"id": GROUP_SALES, "type": 34, "subtype": 8705, "name": "Sales", "description": "", "definition": {}},
        {"id": GROUP_ALL, "type": 34, "subtype": 8705, "name": "Everyone", "description": "", "definition": {}},
        {"id": ROLE_ANALYST, "type": 44, "subtype": 11264, "name": "Analyst", "description": "",
         "definition": {"privileges": [1, 2, 3]}},
        {"id": INSTANCE, "type": 29, "subtype": 7424, "name": "DW", "description": "",
         "definition": {"connection": "DW Connection", "login": "DW Login"}},
        {"id": CONNECTION, "type": 31, "subtype": 7936, "name": "DW Connection", "description": "",
         "definition": {"host": "db"}},
        {"id": LOGIN, "type": 30, "subtype": 7680, "name": "DW Login", "description": "", "definition": {}},
        {"id": SCHEDULE, "type": 51, "subtype": 13056, "name": "Daily", "description": "", "definition": {}},
        {"id": UNRELATED, "type": 51, "subtype": 13056, "name": "Hourly", "description": "", "definition": {}},
    ]  # fmt: skip


SCHEMA_FOLDER, PUBLIC_FOLDER, PROFILE_FOLDER = ids("10"), ids("11"), ids("12")
ATTRIBUTE, TABLE, REPORT, PROFILE_REPORT = ids("20"), ids("21"), ids("22"), ids("23")


def objects() -> list[dict[str, Any]]:
    def obj(oid: str, kind: int, name: str, folder: str, **extra: Any) -> dict[str, Any]:
        return {"id": oid, "type": kind, "subtype": kind * 256, "name": name, "folder_path": folder,
                "is_schema": kind in (12, 15), "owner": "ann", "definition": {}, "acl": [], "translations": {},
                **extra}  # fmt: skip

    return [
        obj(SCHEMA_FOLDER, 8, "Schema Objects", "/"),
        obj(PUBLIC_FOLDER, 8, "Public Objects", "/"),
        obj(PROFILE_FOLDER, 8, "Profiles", "/"),
        obj(ATTRIBUTE, 12, "Region", "/Schema Objects",
            translations={"1033": {"name": "Region"}, "2052": {"name": "地区"}, "1036": {"name": "Région"}}),
        obj(TABLE, 15, "LU_REGION", "/Schema Objects", definition={"instance": INSTANCE}),
        obj(REPORT, 3, "Sales by Region", "/Public Objects",
            acl=[{"trustee": "bob", "kind": "user", "rights": 255}, {"trustee": "Sales", "kind": "group", "rights": 1}],
            definition={"rows": [ATTRIBUTE]}),
        obj(PROFILE_REPORT, 3, "My report", "/Profiles/Ann Profile"),
    ]  # fmt: skip


def seed(ctx: ServiceContext, project_id: str = PROJECT_ID, name: str = "Tutorial") -> None:
    with ctx.db.begin() as conn:
        if TableRepository(tables.config_objects).find(conn, {"id": USER_ANN}) is None:
            TableRepository(tables.config_objects).insert_many(conn, config_objects())
        project = {"id": project_id, "name": name, "description": "the tutorial", "default_locale": 1033,
                   "owner": "ann"}  # fmt: skip
        TableRepository(tables.projects).insert(conn, project)
        TableRepository(tables.metadata_objects).insert_many(conn, [{**o, "project_id": project_id} for o in objects()])
        TableRepository(tables.profile_folders).insert_many(
            conn,
            [{"project_id": project_id, "id": ids("30"), "owner": "ann", "name": "Ann Profile"},
             {"project_id": project_id, "id": ids("31"), "owner": "bob", "name": "Bob Profile"}],
        )  # fmt: skip
        TableRepository(tables.subscriptions).insert_many(
            conn,
            [{"project_id": project_id, "id": ids("40"), "name": "Mine", "kind": "user", "owner": "cat",
              "recipient": "cat", "object_id": REPORT, "schedule": "Daily", "definition": {}},
             {"project_id": project_id, "id": ids("41"), "name": "Partner", "kind": "contact", "owner": "ann",
              "recipient": "x@partner.example.com", "object_id": REPORT, "schedule": "Daily", "definition": {}}],
        )  # fmt: skip


def environment(path: Path, **settings: object) -> ServiceContext:
    return make_context(path, **settings)


def request(
    target_name: str = "Target Project",
    *,
    target_env: str = ENV_A,
    settings: dict[str, Any] | None = None,
    target_id: str | None = None,
) -> DuplicationRequest:
    target_project: dict[str, Any] = {"name": target_name}
    if target_id:
        target_project["id"] = target_id
    body = {
        "source": {"environment": {"id": ENV_A, "name": "Source"}, "project": {"id": PROJECT_ID, "name": "Tutorial"}},
        "target": {"environment": {"id": target_env, "name": "Target"}, "project": target_project},
        "settings": settings or {},
    }
    return DuplicationRequest.model_validate(body)


def rows(ctx: ServiceContext, table: sa.Table, **filters: Any) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return list(TableRepository(table).stream(conn, filters))


def status(ctx: ServiceContext, dup_id: str) -> DuplicationStatus:
    return duplications.get(ctx, ADMIN, dup_id).status


def wait(ctx: ServiceContext, dup_id: str) -> duplications.DuplicationRecord:
    """The duplication's record once its operation here has ended."""
    ctx.engine.wait(duplications.get(ctx, ADMIN, dup_id).operation_id, timeout=60)
    return duplications.get(ctx, ADMIN, dup_id)
