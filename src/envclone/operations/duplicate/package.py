"""The project package: an envclone archive of one project. Its entries are JSON lines
(content.rows) of the project row, its metadata objects, profile folders and subscriptions (under
the ``artifacts`` component, without the project id: the import gives its own), the selected
configuration objects (``configuration``), and ``duplication/package.json`` describing the source.
What is read back is checked against these names; nothing here touches a database."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError

from envclone.archive import ArchiveReader, ArchiveWriter, Manifest
from envclone.content.rows import decode_rows, encode_rows
from envclone.domain.components import Component
from envclone.operations.duplicate.errors import IncompatibleVersions, NotADuplicationPackage
from envclone.store import tables

PACKAGE_VERSION = 1  # what this server writes and the newest it reads
METADATA_TYPE = "envclone"
INFO_COMPONENT, INFO_ENTRY = "duplication", "package.json"
ARTIFACT_TABLES = (tables.projects, tables.metadata_objects, tables.profile_folders, tables.subscriptions)
CONFIG_TABLES = (tables.config_objects,)


def entry_name(table: sa.Table) -> str:
    return f"{table.name}.jsonl"


def component_of(table: sa.Table) -> Component:
    return Component.CONFIGURATION if table is tables.config_objects else Component.ARTIFACTS


def columns_of(table: sa.Table) -> list[str]:
    """What a package holds of a table's rows: all but the project id (the import's own)."""
    return [c.name for c in table.columns if not (c.name == "project_id" and table is not tables.projects)]


class PackageInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    package_version: int
    metadata_type: str = METADATA_TYPE
    envclone_version: str
    environment: dict[str, str]  # the source environment: id (its Library URL) and name
    project: dict[str, Any]  # id, name, description, default_locale


def write_table(writer: ArchiveWriter, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    columns = columns_of(table)
    values = ([row.get(c) for c in columns] for row in rows)
    writer.add_stream(component_of(table).value, entry_name(table), encode_rows(values, columns))


def write_info(writer: ArchiveWriter, info: PackageInfo) -> None:
    writer.add_bytes(INFO_COMPONENT, INFO_ENTRY, info.model_dump_json().encode())


def read_info(reader: ArchiveReader) -> PackageInfo:
    return info_of(reader.manifest, lambda: reader.read_bytes(INFO_COMPONENT, INFO_ENTRY))


def info_of(manifest: Manifest, read: Any) -> PackageInfo:
    """The package's description, checked: the entries a project package has, a version this
    server reads. ``read`` returns the description entry's bytes."""
    names = {(c, e.name) for c, e in manifest.entries()}
    wanted = {(component_of(t).value, entry_name(t)) for t in (*ARTIFACT_TABLES, *CONFIG_TABLES)}
    if (INFO_COMPONENT, INFO_ENTRY) not in names or not wanted <= names:
        raise NotADuplicationPackage(
            "the file is an envclone package but not a project duplication package: it holds no project"
        )
    try:
        info = PackageInfo.model_validate(json.loads(read()))
    except (ValueError, ValidationError):
        raise NotADuplicationPackage("the project duplication package's description is not readable") from None
    check_version(info.package_version)
    return info


def check_version(version: int) -> None:
    if version > PACKAGE_VERSION:
        raise IncompatibleVersions(
            f"the package has format version {version}; this server reads up to {PACKAGE_VERSION}: "
            "upgrade envclone on this environment"
        )


def read_table(reader: ArchiveReader, table: sa.Table, on_bytes: Any = None) -> Iterator[dict[str, Any]]:
    chunks = reader.read(component_of(table).value, entry_name(table))
    if on_bytes is not None:
        chunks = _counted(chunks, on_bytes)
    return decode_rows(chunks, table)


def _counted(chunks: Iterable[bytes], on_bytes: Any) -> Iterator[bytes]:
    for chunk in chunks:
        on_bytes(len(chunk))
        yield chunk
