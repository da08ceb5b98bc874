"""Inside apply_archive's one transaction: the package's project inserted as a new project here
(the name checked again, now that nothing else can take it), its objects with the translations of
the chosen locales only, and the configuration objects by the conflict rules (config_rules). A
failure or a cancel before the transaction leaves nothing; the import touches nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from envclone.archive import ArchiveReader
from envclone.domain.duplication import ImportSettings
from envclone.operations.duplicate.config_rules import ConfigPlan, plan_config
from envclone.operations.duplicate.errors import ProjectNameExists
from envclone.operations.duplicate.package import read_table
from envclone.store import tables
from envclone.store.repository import TableRepository

_projects = TableRepository(tables.projects)
_objects = TableRepository(tables.metadata_objects)
_profiles = TableRepository(tables.profile_folders)
_subscriptions = TableRepository(tables.subscriptions)
_config = TableRepository(tables.config_objects)


@dataclass(frozen=True)
class Imported:
    project_id: str
    objects: int
    config_inserted: int
    config_updated: int
    renamed: dict[str, str]


def check_free(conn: sa.Connection, name: str, project_id: str | None) -> None:
    """ProjectNameExists (409) when the name or the asked id is a project's here already."""
    if _projects.page(conn, {"name": name}, limit=1, offset=0).total:
        raise ProjectNameExists(f"a project named {name!r} already exists in the target environment")
    if project_id and _projects.find(conn, {"id": project_id}) is not None:
        raise ProjectNameExists(f"a project with id {project_id} already exists in the target environment")


def kept_translations(translations: Any, locales: set[int]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in dict(translations or {}).items():
        try:
            lcid = int(key)
        except ValueError:
            continue
        if lcid in locales:
            kept[key] = value
    return kept


def import_project(
    conn: sa.Connection,
    reader: ArchiveReader,
    settings: ImportSettings,
    *,
    project_id: str,
    name: str,
    types_match_by_name: list[int],
    on_bytes: Callable[[int], None] | None = None,
) -> Imported:
    check_free(conn, name, project_id)
    source = next(read_table(reader, tables.projects, on_bytes))
    default_locale = settings.default_locale or int(source["default_locale"])
    locales = {lcid or default_locale for lcid in settings.locales or [0]}
    incoming = list(read_table(reader, tables.config_objects, on_bytes))
    plan = plan_config(incoming, _config.stream(conn), settings.configuration_objects, types_match_by_name)
    write_config(conn, plan)
    login = _renamer(plan.renamed)
    description = settings.description if settings.description is not None else source["description"]
    _projects.insert(
        conn,
        {"id": project_id, "name": name, "description": description, "default_locale": default_locale,
         "owner": login(source["owner"])},
    )  # fmt: skip

    def objects() -> Iterator[dict[str, Any]]:
        for row in read_table(reader, tables.metadata_objects, on_bytes):
            acl = [_renamed_trustee(a, login) for a in row["acl"] or []]
            translations = kept_translations(row["translations"], locales)
            yield {**row, "project_id": project_id, "owner": login(row["owner"]), "acl": acl,
                   "translations": translations}  # fmt: skip

    count = _objects.insert_many(conn, objects())
    profiles = ({**r, "project_id": project_id, "owner": login(r["owner"])}
                for r in read_table(reader, tables.profile_folders, on_bytes))  # fmt: skip
    _profiles.insert_many(conn, profiles)
    _subscriptions.insert_many(conn, (_subscription(r, project_id, login)
                                      for r in read_table(reader, tables.subscriptions, on_bytes)))  # fmt: skip
    return Imported(project_id, count, len(plan.inserts), len(plan.updates), dict(plan.renamed))


def write_config(conn: sa.Connection, plan: ConfigPlan) -> None:
    """The plan's inserts and whole-row updates, in the caller's transaction."""
    _config.insert_many(conn, plan.inserts)
    for row in plan.updates:
        _config.update(conn, {"id": row["id"]}, {k: v for k, v in row.items() if k != "id"})


def _renamer(renamed: dict[str, str]) -> Callable[[Any], Any]:
    def login(value: Any) -> Any:
        return renamed.get(value, value) if isinstance(value, str) else value

    return login


def _renamed_trustee(entry: Any, login: Callable[[Any], Any]) -> Any:
    if isinstance(entry, dict) and entry.get("kind") == "user":
        return {**entry, "trustee": login(entry.get("trustee"))}
    return entry


def _subscription(row: dict[str, Any], project_id: str, login: Callable[[Any], Any]) -> dict[str, Any]:
    recipient = login(row["recipient"]) if row["kind"] == "user" else row["recipient"]
    return {**row, "project_id": project_id, "owner": login(row["owner"]), "recipient": recipient}
