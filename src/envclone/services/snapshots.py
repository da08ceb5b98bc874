"""Stored snapshots and files as one namespace: the latest Artifact Snapshot from the archives
catalogue, stored snapshots (package files of the ``snapshots`` area), inbox files and outbox
files (named ``outbox/<name>``). List, describe, download (a snapshot is a ZIP package), chunked
upload (a package is verified whole before it is stored), delete, and copying an archived backup
in as a stored snapshot. Snapshots need the migration permission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from envclone.archive import (
    ArchiveError,
    PackageCorrupt,
    export_archive,
    is_package,
    load_manifest,
    package_size,
    verify_package,
)
from envclone.domain import copy
from envclone.domain.archives import ArchiveKind
from envclone.domain.files import FileArea
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import Conflict, InvalidRequest, NotFound
from envclone.operations.copy import name_taken
from envclone.services import files, operations
from envclone.services._pipe import stream_writer
from envclone.services._staging import ChunkReceiver, ChunkSpec, Staging
from envclone.services.context import ServiceContext
from envclone.store import archives
from envclone.store import files as stored_files

LATEST_ARTIFACT_SNAPSHOT = "Artifact Snapshot"
OUTBOX = "outbox/"
ARCHIVE, SNAPSHOT, INBOX, OUTBOX_FILE = "archive", "snapshot", "inbox", "outbox"
HEAD_BYTES = 64  # enough of a file's start to tell a snapshot package
_AREA_KIND = {FileArea.SNAPSHOTS.value: SNAPSHOT, FileArea.INBOX.value: INBOX, FileArea.OUTBOX.value: OUTBOX_FILE}


@dataclass(frozen=True)
class Stored:
    name: str  # as listed: outbox files carry the "outbox/" prefix
    kind: str  # archive (the latest Artifact Snapshot), snapshot, inbox or outbox
    size: int
    modified: dt.datetime | None
    area: str | None = None  # the file area, for files
    file_name: str | None = None  # the name in that area
    manifest_id: str | None = None  # for the archive

    @property
    def is_snapshot(self) -> bool:
        return self.kind in (ARCHIVE, SNAPSHOT)


def _file_item(m: Mapping[str, Any]) -> Stored:
    shown = OUTBOX + m["name"] if m["area"] == FileArea.OUTBOX else m["name"]
    return Stored(shown, _AREA_KIND[m["area"]], int(m["size"]), m["modified"], m["area"], m["name"])


def _archive_item(conn: sa.Connection) -> Stored | None:
    row = archives.latest(conn, ArchiveKind.ARTIFACT_SNAPSHOT)
    if row is None:
        return None
    return Stored(LATEST_ARTIFACT_SNAPSHOT, ARCHIVE, int(row["size"]), row["created"], manifest_id=row["manifest_id"])


def list_stored(ctx: ServiceContext, who: Principal) -> list[Stored]:
    """Every stored item with its size; for the latest Artifact Snapshot the size of the package a
    download writes (computed from its chunks' sizes, nothing is read)."""
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        latest = _archive_item(conn)
        rows = stored_files.in_areas(conn, list(_AREA_KIND))
    if latest is not None and latest.manifest_id:
        latest = replace(latest, size=package_size(ctx.blobs, load_manifest(ctx.blobs, latest.manifest_id)))
    return ([latest] if latest else []) + [_file_item(r) for r in rows]


def _find(conn: sa.Connection, name: str) -> Stored | None:
    if name == LATEST_ARTIFACT_SNAPSHOT:
        return _archive_item(conn)
    in_outbox = name.startswith(OUTBOX)
    if in_outbox:
        keys = [(FileArea.OUTBOX.value, name.removeprefix(OUTBOX))]
    else:
        keys = [(FileArea.SNAPSHOTS.value, name), (FileArea.INBOX.value, name)]
    for area, file_name in keys:
        row = stored_files.find(conn, area, file_name)
        if row is not None:
            return _file_item(row)
    return None


def describe(ctx: ServiceContext, who: Principal, name: str) -> Stored:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        found = _find(conn, name)
    if found is None:
        raise NotFound(f"{name} not found: no snapshot or file has that name")
    return found


def open_content(ctx: ServiceContext, who: Principal, name: str) -> tuple[Stored, Iterator[bytes]]:
    """Stream a snapshot or file. The Artifact Snapshot is exported as a package on the fly."""
    item = describe(ctx, who, name)
    who.require(Permission.MIGRATE if item.is_snapshot else Permission.READ_CONTENT)
    if item.manifest_id is not None:
        archive_id = item.manifest_id
        return item, stream_writer(lambda out: export_archive(ctx.blobs, archive_id, out), name="snapshot-export")
    assert item.area is not None and item.file_name is not None
    _row, chunks = files.open_file(ctx, who, item.area, item.file_name)
    return item, chunks


def delete(ctx: ServiceContext, who: Principal, name: str) -> None:
    who.require(Permission.MIGRATE)
    item = describe(ctx, who, name)
    if item.manifest_id is not None:
        raise Conflict(f"the {LATEST_ARTIFACT_SNAPSHOT} is the latest daily maintenance backup; it cannot be deleted")
    with ctx.blob_refs:
        with ctx.db.begin() as conn:
            row = stored_files.rows.delete(conn, {"area": item.area, "name": item.file_name})
            orphan = not stored_files.hash_referenced(conn, row["hash"])
        # Only once the row is gone for good, as files.delete_file does.
        if orphan:
            ctx.blobs.delete(files.blob_key(row["hash"]))


# --- uploads -----------------------------------------------------------------------------------
def _upload_name(name: str) -> str:
    if name == LATEST_ARTIFACT_SNAPSHOT or name.startswith(OUTBOX):
        raise InvalidRequest(f"{name!r} cannot be uploaded: the name is reserved")
    return files.check_new_name(name)


def _taken(ctx: ServiceContext, name: str) -> None:
    with ctx.db.read() as conn:
        if name_taken(conn, name):
            raise Conflict(f"a file or snapshot named {name} already exists; delete it first")


def start_chunk(ctx: ServiceContext, who: Principal, name: str, spec: ChunkSpec) -> ChunkReceiver:
    """One chunk of an upload; ``finish_chunk`` adds it once all of it has arrived."""
    who.require(Permission.MIGRATE)
    staging = Staging(ctx.settings.data_dir / "staging" / "uploads", who.login, _upload_name(name))
    if spec.is_first:
        _taken(ctx, staging.name)
        staging.prune_stale()
    elif staging.state() is None:
        raise InvalidRequest(f"no upload of {name} is in progress: the first chunk must have isFirst=true")
    return ChunkReceiver(staging, spec)


def _verify_package(ctx: ServiceContext, staging: Staging) -> None:
    """A snapshot is refused at upload, not at its first clone or restore, if any part of it is
    damaged: the package's structure, its manifest's hash, every chunk against its id, and every
    chunk the manifest needs present (in the package or already in this environment)."""
    try:
        with staging.part.open("rb") as src:
            verify_package(src, ctx.blobs)
    except ArchiveError as exc:
        raise PackageCorrupt(
            f"{staging.name} is not a valid snapshot package and was not stored: {exc.message}", details=exc.details
        ) from None


def finish_chunk(ctx: ServiceContext, receiver: ChunkReceiver, area: str | None = None) -> dict[str, Any]:
    """Add the chunk; after the last one publish the file: a package (verified whole first) goes
    to the snapshots area, anything else to the inbox (or to ``area`` when the caller names one)."""
    staging = receiver.staging
    with staging.lock:
        total = receiver.append()
        if not receiver.spec.is_last:
            return {"name": staging.name, "received": total, "published": False}
        try:
            with staging.part.open("rb") as src:
                package = is_package(src.read(HEAD_BYTES))
            target = area or (FileArea.SNAPSHOTS.value if package else FileArea.INBOX.value)
            _taken(ctx, staging.name)
            checked = target == FileArea.SNAPSHOTS.value
            if checked:
                _verify_package(ctx, staging)
            upload = files.Upload(ctx, files.check_area(target), staging.name, package_verified=checked)
            try:
                with staging.part.open("rb") as src:
                    while block := src.read(1024 * 1024):
                        upload.write(block)
                row = upload.finish()
            finally:
                upload.abort()
        finally:
            staging.discard()
    return {**row, "published": True, "kind": _AREA_KIND[target]}


# --- Restore Backup ----------------------------------------------------------------------------
def start_restore_backup(ctx: ServiceContext, who: Principal, backup_name: str, target: str | None) -> Operation:
    who.require(Permission.MIGRATE)
    with ctx.db.read() as conn:
        archives.get(conn, backup_name)
    name = _upload_name(target or copy.default_target(backup_name))
    _taken(ctx, name)
    request = copy.CopyRequest(backup_name=backup_name, target_name=name)
    return ctx.engine.submit(copy.KIND, request.model_dump(mode="json"), created_by=who.login)


def get_restore_backup(ctx: ServiceContext, who: Principal, number: int) -> Operation:
    """A Restore Backup operation by its job number; other kinds are not found here."""
    op = operations.get_by_number(ctx, who, number)
    if op.kind != copy.KIND:
        raise NotFound(f"job {number} is not a Restore Backup job")
    return op
