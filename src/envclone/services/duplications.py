"""Project duplication as use cases (Strategy's projectDuplications, seed 002): start one here or
as a cross-environment source, start the target side, restore an uploaded package, read, list,
cancel, delete, download the package, and the versions a target checks. Every request is checked
whole before anything is recorded; authorization and user fencing are decided here."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa

from envclone import __version__
from envclone.archive import (
    ArchiveError,
    ArchiveReader,
    PackageCorrupt,
    export_archive,
    import_archive,
    list_archives,
    load_manifest,
    package_size,
)
from envclone.archive.ids import manifest_key
from envclone.domain.clock import utcnow
from envclone.domain.duplication import (
    CANCELLABLE,
    DUPLICATE_KIND,
    EXPORT_KIND,
    IMPORT_KIND,
    PACKAGE_SUFFIX,
    USER_FENCING_KEY,
    DuplicationRecord,
    DuplicationRequest,
    DuplicationStatus,
    RestorationRequest,
    Role,
    derived_project_id,
    login_id,
    progress_of,
    status_of,
)
from envclone.domain.operation import Operation, OperationStatus
from envclone.domain.principal import Permission, Principal
from envclone.errors import Conflict, EnvcloneError, Forbidden, InvalidRequest, NotCancellable, NotFound
from envclone.operations.duplicate import storage
from envclone.operations.duplicate.errors import IncompatibleVersions, StorageNotConfigured
from envclone.operations.duplicate.importing import check_free
from envclone.operations.duplicate.package import (
    INFO_COMPONENT,
    INFO_ENTRY,
    METADATA_TYPE,
    PACKAGE_VERSION,
    check_version,
    info_of,
)
from envclone.operations.duplicate.params import DuplicationParams
from envclone.operations.duplicate.selection import find_project
from envclone.services import storage_service
from envclone.services._pipe import stream_writer
from envclone.services.context import ServiceContext
from envclone.store import duplications, tables
from envclone.store.operations import check_lock_free
from envclone.store.repository import TableRepository

log = logging.getLogger("envclone.duplications")
_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")
_settings = TableRepository(tables.settings, label="setting")
MAX_PAGE = 1000
# What GET /projectDuplications/versions reports as Strategy's version (the dialect's status
# reports the same): 11.5.1200 is the first with cross-environment duplication.
STRATEGY_VERSION = "11.5.1200.0000"


class UserFencing(Forbidden, code="user_fencing"):
    """Project duplication does not work while user fencing is enabled: disable user fencing in
    the Library (the environment setting user_fencing: PATCH /v1/settings {"user_fencing": false}) and try again."""


@dataclass(frozen=True)
class PackageDownload:
    filename: str
    size: int
    chunks: Iterator[bytes]


# -- starting ---------------------------------------------------------------------------------------
def _guard(ctx: ServiceContext, who: Principal, permission: Permission) -> None:
    who.require(permission)
    with ctx.db.read() as conn:
        row = _settings.find(conn, {"key": USER_FENCING_KEY})
    if row is not None and row["value"] is True:
        raise UserFencing()


def _storage_place(ctx: ServiceContext) -> storage_service.Place:
    place = storage_service.place(ctx)
    if place is None:
        raise StorageNotConfigured()
    return place


def _side(side: Any, project_id: str | None, creator: str) -> dict[str, Any]:
    shown: dict[str, Any] = side.model_dump(mode="json", by_alias=True)
    if project_id:
        shown["project"]["id"] = project_id.upper()
    shown["creator"] = {"id": login_id(creator), "name": creator}
    return shown


def _submit(
    ctx: ServiceContext, who: Principal, kind: str, params: DuplicationParams, source: dict[str, Any],
    target: dict[str, Any], secrets: dict[str, str] | None = None,
) -> DuplicationRecord:  # fmt: skip
    """Record the operation and the side in one transaction; the record's id is the duplication's
    (the operation's own when the params name none)."""
    ids: list[str] = []

    def record(conn: sa.Connection, op: Operation) -> None:
        dup_id = params.dup_id or op.id
        project_id = params.target_project_id or derived_project_id(dup_id)
        shown_target = {**target, "project": {**target["project"], "id": project_id}}
        duplications.insert(
            conn,
            {"id": dup_id, "role": params.role.value, "operation_id": op.id, "source": source,
             "target": shown_target, "settings": params.settings, "creator": who.login,
             "manifest_id": params.manifest_id},
        )  # fmt: skip
        ids.append(dup_id)

    ctx.engine.submit(kind, params.model_dump(mode="json"), created_by=who.login, secrets=secrets, also=record)
    return get(ctx, who, ids[0])


def start(ctx: ServiceContext, who: Principal, request: DuplicationRequest) -> DuplicationRecord:
    """POST on the source: the whole duplication here (equal environment ids), or the source side."""
    _guard(ctx, who, Permission.MIGRATE)
    source_id = str(request.source.project.id).upper()
    asked = request.target.project.id.upper() if request.target.project.id else None
    with ctx.db.read() as conn:
        find_project(conn, source_id)
        if request.same_environment:
            check_free(conn, str(request.target.project.name), asked)
    settings = request.settings.model_dump(mode="json", by_alias=True)
    source = _side(request.source, source_id, who.login)
    target = _side(request.target, asked, who.login)
    if request.same_environment:
        params = DuplicationParams(dup_id=None, role=Role.LOCAL, source=source, target=target, settings=settings,
                                   target_project_id=asked)  # fmt: skip
        return _submit(ctx, who, DUPLICATE_KIND, params, source, target)
    place = _storage_place(ctx)
    params = DuplicationParams(dup_id=None, role=Role.SOURCE, source=source, target=target, settings=settings,
                               target_project_id=asked, storage=place.location)  # fmt: skip
    return _submit(ctx, who, EXPORT_KIND, params, source, target, place.secrets)


def _checked_id(dup_id: str) -> str:
    if not _HEX32.match(dup_id or ""):
        raise InvalidRequest(f"{dup_id!r} is not a project duplication id (32 hexadecimal digits)")
    return dup_id.upper()


def start_target(ctx: ServiceContext, who: Principal, dup_id: str, request: DuplicationRequest) -> DuplicationRecord:
    """PUT {id} on the target: import the package the source publishes under ``dup_id``."""
    _guard(ctx, who, Permission.MIGRATE)
    dup_id = _checked_id(dup_id)
    place = _storage_place(ctx)
    asked = request.target.project.id.upper() if request.target.project.id else None
    with ctx.db.read() as conn:
        if duplications.find(conn, dup_id) is not None:
            raise Conflict(f"project duplication {dup_id} already exists on this environment")
        check_free(conn, str(request.target.project.name), asked)
    source = _side(request.source, request.source.project.id, who.login)
    target = _side(request.target, asked, who.login)
    settings = request.settings.model_dump(mode="json", by_alias=True)
    project_id = asked or derived_project_id(dup_id)
    params = DuplicationParams(dup_id=dup_id, role=Role.TARGET, source=source, target=target, settings=settings,
                               target_project_id=project_id, storage=place.location)  # fmt: skip
    return _submit(ctx, who, IMPORT_KIND, params, source, target, place.secrets)


def may_restore(ctx: ServiceContext, who: Principal) -> None:
    """Whether ``who`` may restore a package here now, decided before its upload is read: a Viewer
    or a fenced environment is refused without the server spooling a byte of the body."""
    _guard(ctx, who, Permission.MIGRATE)


def restore(ctx: ServiceContext, who: Principal, package: BinaryIO, metadata: RestorationRequest) -> DuplicationRecord:
    """POST /restoration: the uploaded package checked whole before anything is recorded, then a
    new target-side duplication that imports it."""
    _guard(ctx, who, Permission.MIGRATE)
    asked = metadata.target.project.id.upper() if metadata.target.project.id else None
    with ctx.db.read() as conn:
        check_free(conn, str(metadata.target.project.name), asked)
        # A restoration has nothing to wait for: refused at once while a restore or clone changes
        # content, as when its kind held the lock from the start (it takes it as it runs).
        check_lock_free(conn)
    present = set(list_archives(ctx.blobs))  # a refused upload removes only what it added
    try:
        manifest = import_archive(package, ctx.blobs)
    except PackageCorrupt:
        raise
    except ArchiveError as exc:
        raise PackageCorrupt(f"the package is damaged: {exc.message}") from None
    try:
        with ArchiveReader(ctx.blobs, manifest) as reader:
            info = info_of(manifest, lambda: reader.read_bytes(INFO_COMPONENT, INFO_ENTRY))
    except BaseException:
        if manifest.archive_id not in present:  # not a package this server imports
            ctx.blobs.delete(manifest_key(manifest.archive_id))
        raise
    source = {
        "environment": dict(info.environment),
        "project": {"id": str(info.project.get("id", "")), "name": str(info.project.get("name", ""))},
        "creator": {"id": login_id(who.login), "name": who.login},
    }
    target = _side(metadata.target, asked, who.login)
    settings = metadata.settings.model_dump(mode="json", by_alias=True)
    params = DuplicationParams(dup_id=None, role=Role.TARGET, source=source, target=target, settings=settings,
                               target_project_id=asked, manifest_id=manifest.archive_id)  # fmt: skip
    return _submit(ctx, who, IMPORT_KIND, params, source, target)


# -- reading ----------------------------------------------------------------------------------------
def _record(ctx: ServiceContext, row: dict[str, Any]) -> DuplicationRecord:
    op = ctx.engine.get(row["operation_id"])
    role = Role(row["role"])
    status = status_of(role, op)
    message = op.error_message or "" if op.status is OperationStatus.FAILED else ""
    updated = max(t for t in (row["updated"], op.ended, op.started, op.created) if t is not None)
    return DuplicationRecord(
        id=row["id"],
        role=role,
        operation_id=op.id,
        source=row["source"],
        target=row["target"],
        creator={"id": login_id(row["creator"]), "name": row["creator"]},
        created=row["created"],
        updated=updated,
        status=status,
        progress=progress_of(op, utcnow()),
        message=message,
        settings=row["settings"],
    )


def _row(ctx: ServiceContext, dup_id: str) -> dict[str, Any]:
    with ctx.db.read() as conn:
        row = duplications.find(conn, dup_id.upper()) if _HEX32.match(dup_id or "") else None
    if row is None:
        raise NotFound(f"project duplication {dup_id} not found")
    return row


def get(ctx: ServiceContext, who: Principal, dup_id: str) -> DuplicationRecord:
    _guard(ctx, who, Permission.READ_CONTENT)
    return _record(ctx, _row(ctx, dup_id))


def list_records(ctx: ServiceContext, who: Principal, offset: int, limit: int) -> tuple[list[DuplicationRecord], int]:
    _guard(ctx, who, Permission.READ_CONTENT)
    if offset < 0:
        raise InvalidRequest("offset must be 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be from 1 to {MAX_PAGE}")
    with ctx.db.read() as conn:
        rows = duplications.listing(conn, offset=offset, limit=limit)
        total = duplications.count(conn)
    return [_record(ctx, row) for row in rows], total


# -- changing ---------------------------------------------------------------------------------------
def cancel(ctx: ServiceContext, who: Principal, dup_id: str) -> None:
    """Only while exporting, syncing or importing. The source's cancel before ``exported`` also
    cancels the target side (a marker in the storage service its sync step sees); the target's
    never touches the source."""
    _guard(ctx, who, Permission.MIGRATE)
    row = _row(ctx, dup_id)
    current = _record(ctx, row)
    if current.status not in CANCELLABLE:
        raise NotCancellable(f"project duplication {row['id']} is {current.status.value} and cannot be cancelled")
    ctx.engine.cancel(row["operation_id"])
    if current.role is Role.SOURCE:
        place = _params(ctx, row).storage
        if place:
            try:
                storage.mark_cancelled(storage_service.open_place(ctx, place), row["id"])
            except EnvcloneError as exc:
                # The cancel itself holds: the export marks the storage service too as it stops.
                # A bucket that refuses now only leaves that to the export.
                log.warning("duplication %s: the cancel marker was not written: %s", row["id"], exc.message)


def _params(ctx: ServiceContext, row: dict[str, Any]) -> DuplicationParams:
    return DuplicationParams.model_validate(ctx.engine.get(row["operation_id"]).params)


def delete(ctx: ServiceContext, who: Principal, dup_id: str) -> None:
    """Remove the record, its archive here and, on the source, its package in the storage service."""
    _guard(ctx, who, Permission.MIGRATE)
    row = _row(ctx, dup_id)
    current = _record(ctx, row)
    if not current.status.is_stable:
        raise Conflict(
            f"project duplication {row['id']} is {current.status.value}: cancel it or wait for it to end first"
        )
    params = _params(ctx, row)
    if current.role is Role.SOURCE and params.storage and current.status is DuplicationStatus.EXPORTED:
        storage.remove(storage_service.open_place(ctx, params.storage), row["id"])
    with ctx.db.begin() as conn:
        duplications.delete(conn, row["id"])
        still_used = set(duplications.manifest_ids(conn))
    if row["manifest_id"] and row["manifest_id"] not in still_used:
        ctx.blobs.delete(manifest_key(row["manifest_id"]))  # its chunks go with the next gc


def package(ctx: ServiceContext, who: Principal, dup_id: str) -> PackageDownload:
    """The source's package as a ``.projdup`` file, streamed: only once ``exported``."""
    _guard(ctx, who, Permission.MIGRATE)
    row = _row(ctx, dup_id)
    current = _record(ctx, row)
    if current.role is not Role.SOURCE or current.status is not DuplicationStatus.EXPORTED or not row["manifest_id"]:
        raise Conflict(
            f"project duplication {row['id']} has no package to download: only a source side that is "
            f"exported has one (this is the {current.role.value} side, {current.status.value})"
        )
    manifest_id = str(row["manifest_id"])
    size = package_size(ctx.blobs, load_manifest(ctx.blobs, manifest_id))
    chunks = stream_writer(lambda out: export_archive(ctx.blobs, manifest_id, out), name="projdup-export")
    return PackageDownload(filename=f"{row['id']}{PACKAGE_SUFFIX}", size=size, chunks=chunks)


# -- versions -----------------------------------------------------------------------------------------
def versions(ctx: ServiceContext) -> dict[str, Any]:
    return {
        "iServerVersion": STRATEGY_VERSION,
        "webVersion": STRATEGY_VERSION,
        "packageVersion": PACKAGE_VERSION,
        "metadataType": METADATA_TYPE,
        "envcloneVersion": __version__,
    }


def validate_versions(ctx: ServiceContext, body: dict[str, Any]) -> None:
    """Whether this server imports a package from a source reporting ``body`` (its versions)."""
    raw = body.get("packageVersion", PACKAGE_VERSION)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidRequest("packageVersion must be a whole number")
    try:
        version = int(raw)
    except ValueError:
        raise InvalidRequest("packageVersion must be a whole number") from None
    check_version(version)
    kind = body.get("metadataType")
    if kind is not None and kind != METADATA_TYPE:
        raise IncompatibleVersions(f"the source's metadata type {kind!r} is not {METADATA_TYPE!r}")
