"""What a project's package holds, by the export settings (Strategy's seed 002, made precise):

- objects: all of the project's metadata objects; with ``schemaObjectsOnly`` only the schema
  objects (``is_schema``) and the folders on the path to one (``/Schema Objects``...);
- profile folders: all; none with ``skipAllProfileFolders``; with ``skipEmptyProfileFolders`` only
  those holding an exported object (one whose folder is ``/Profiles/<folder name>`` or below);
- subscriptions: none unless asked; ``includeUserSubscriptions`` adds those of kind ``user``,
  ``includeContactSubscriptions`` those of kind ``contact``; one whose object is not exported is
  left out (it would point at nothing);
- configuration objects, by the rule of their type (34 has its own when given, every other type
  follows type 5): 0 none, 2 those listed in ``objects``, 3 all, 1 **project-related**: one whose
  id or name the project refers to (the project's owner; each exported object's owner, ACL
  trustees and any string in its definition; profile folder owners; subscription owners,
  recipients, schedules and strings in their definitions), or that the definition of another
  exported configuration object refers to, transitively (a database instance brings its
  connection and login). ``includeAllUserGroups`` exports every user group (34/8705) whatever the
  users' rule (with users at 0: the whole group structure and no user).
Reads one consistent snapshot; writes nothing but the archive entries it is given a writer for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from envclone.archive import ArchiveWriter
from envclone.domain.duplication import RULE_ALL, RULE_RELATED, RULE_SELECTED, USER_TYPE, ExportSettings
from envclone.operations.duplicate.errors import ProjectNotFound
from envclone.operations.duplicate.package import write_table
from envclone.store import tables
from envclone.store.repository import TableRepository

USER_SUBTYPE, GROUP_SUBTYPE = 8704, 8705
FOLDER_TYPE = 8
PROFILES = "/Profiles"

_projects = TableRepository(tables.projects)
_objects = TableRepository(tables.metadata_objects)
_profiles = TableRepository(tables.profile_folders)
_subscriptions = TableRepository(tables.subscriptions)
_config = TableRepository(tables.config_objects)


@dataclass
class Exported:
    """What was written, and what it refers to (for project-related configuration objects)."""

    project: dict[str, Any]
    objects: int = 0
    profile_folders: int = 0
    subscriptions: int = 0
    config_objects: int = 0
    object_ids: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)  # folder paths holding an exported object
    refs: set[str] = field(default_factory=set)  # names and ids the exported content mentions


def find_project(conn: sa.Connection, project_id: str) -> dict[str, Any]:
    row = _projects.find(conn, {"id": project_id})
    if row is None:
        raise ProjectNotFound(f"project {project_id} not found")
    return row


def count_objects(conn: sa.Connection, project_id: str) -> int:
    """How many metadata objects the project holds (the export's progress plan)."""
    return _objects.page(conn, {"project_id": project_id}, limit=0, offset=0).total


def strings_in(value: Any, out: set[str]) -> None:
    """Every string value in a JSON value (ids and names a definition mentions)."""
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            strings_in(item, out)
    elif isinstance(value, list):
        for item in value:
            strings_in(item, out)


def ancestors(path: str) -> Iterator[str]:
    """``/a/b`` -> ``/a``, ``/a/b``: the folders on the way to ``path``."""
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        yield "/" + "/".join(parts[:i])


def folder_path(row: dict[str, Any]) -> str:
    """The full path of a folder object (its parent's path and its name)."""
    parent = str(row["folder_path"]).rstrip("/")
    return f"{parent}/{row['name']}"


def export_project(
    conn: sa.Connection,
    writer: ArchiveWriter,
    project_id: str,
    settings: ExportSettings,
    on_row: Callable[[], None] = lambda: None,
) -> Exported:
    """Write the project's entries; ``on_row`` runs per object read (a cancel check)."""
    project = find_project(conn, project_id)
    out = Exported(project=project)
    out.refs.add(str(project["owner"]))
    write_table(writer, tables.projects, [project])
    write_table(writer, tables.metadata_objects, _objects_of(conn, project_id, settings, out, on_row))
    write_table(writer, tables.profile_folders, _profiles_of(conn, project_id, settings, out))
    write_table(writer, tables.subscriptions, _subscriptions_of(conn, project_id, settings, out))
    write_table(writer, tables.config_objects, select_config(list(_config.stream(conn)), out.refs, settings, out))
    return out


def _objects_of(
    conn: sa.Connection, project_id: str, settings: ExportSettings, out: Exported, on_row: Callable[[], None]
) -> Iterator[dict[str, Any]]:
    keep_folders: set[str] | None = None
    if settings.project_objects_preference.schema_objects_only:
        keep_folders = set()
        for row in _objects.stream(conn, {"project_id": project_id, "is_schema": True}):
            keep_folders.update(ancestors(str(row["folder_path"])))
    for row in _objects.stream(conn, {"project_id": project_id}, ordered=True):
        on_row()
        if keep_folders is not None and not _schema_or_its_folder(row, keep_folders):
            continue
        out.objects += 1
        out.object_ids.add(row["id"])
        out.folders.add(str(row["folder_path"]).rstrip("/") or "/")
        out.refs.add(str(row["owner"]))
        out.refs.update(str(a.get("trustee", "")) for a in row["acl"] or [] if isinstance(a, dict))
        strings_in(row["definition"], out.refs)
        yield row


def _schema_or_its_folder(row: dict[str, Any], keep_folders: set[str]) -> bool:
    return bool(row["is_schema"]) or (row["type"] == FOLDER_TYPE and folder_path(row) in keep_folders)


def _profiles_of(
    conn: sa.Connection, project_id: str, settings: ExportSettings, out: Exported
) -> Iterator[dict[str, Any]]:
    prefs = settings.project_objects_preference
    if prefs.skip_all_profile_folders:
        return
    for row in _profiles.stream(conn, {"project_id": project_id}, ordered=True):
        if prefs.skip_empty_profile_folders and not _holds_objects(f"{PROFILES}/{row['name']}", out.folders):
            continue
        out.profile_folders += 1
        out.refs.add(str(row["owner"]))
        yield row


def _holds_objects(path: str, folders: set[str]) -> bool:
    return any(f == path or f.startswith(path + "/") for f in folders)


def _subscriptions_of(
    conn: sa.Connection, project_id: str, settings: ExportSettings, out: Exported
) -> Iterator[dict[str, Any]]:
    prefs = settings.subscription_preferences
    kinds = {k for k, wanted in (("user", prefs.include_user_subscriptions),
                                 ("contact", prefs.include_contact_subscriptions)) if wanted}  # fmt: skip
    if not kinds:
        return
    for row in _subscriptions.stream(conn, {"project_id": project_id}, ordered=True):
        if row["kind"] not in kinds or (row["object_id"] is not None and row["object_id"] not in out.object_ids):
            continue
        out.subscriptions += 1
        out.refs.update(str(row[c]) for c in ("owner", "recipient", "schedule"))
        strings_in(row["definition"], out.refs)
        yield row


def related_ids(config: Iterable[dict[str, Any]], refs: set[str]) -> set[str]:
    """The configuration objects the project refers to by id or name, closed under the references
    of their own definitions."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in config:
        by_key.setdefault(str(row["id"]), []).append(row)
        by_key.setdefault(str(row["name"]), []).append(row)
    related: set[str] = set()
    pending = [r for ref in refs for r in by_key.get(ref, ())]
    while pending:
        row = pending.pop()
        if row["id"] in related:
            continue
        related.add(row["id"])
        mentioned: set[str] = set()
        strings_in(row["definition"], mentioned)
        pending.extend(r for ref in mentioned for r in by_key.get(ref, ()) if r["id"] not in related)
    return related


def select_config(
    config: list[dict[str, Any]], refs: set[str], settings: ExportSettings, out: Exported | None = None
) -> list[dict[str, Any]]:
    rules = settings.configuration_objects
    selected = set(rules.objects)
    related = related_ids(config, refs)
    chosen = []
    for row in sorted(config, key=lambda r: str(r["id"])):
        rule = rules.rule_for(int(row["type"]))
        is_group = row["type"] == USER_TYPE and row["subtype"] == GROUP_SUBTYPE
        keep = (
            (is_group and rules.include_all_user_groups)
            or rule == RULE_ALL
            or (rule == RULE_SELECTED and row["id"] in selected)
            or (rule == RULE_RELATED and row["id"] in related)
        )
        if keep:
            chosen.append(row)
    if out is not None:
        out.config_objects = len(chosen)
    return chosen
