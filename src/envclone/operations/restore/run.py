"""The restore operation. Everything it changes is changed in one database transaction (blobs,
being content-addressed, are put in place first), and the restored components' digests are
checked against those recorded in the backup before that transaction commits: a damaged backup,
a crash or a mismatch leaves the environment exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from envclone.archive import ArchiveReader, load_manifest
from envclone.content import apply
from envclone.content.replace import drop_unreferenced_blobs
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.engine import Recorder
from envclone.errors import Conflict
from envclone.operations import catalog
from envclone.operations.context import OperationContext

KIND = "restoreEnvironment"
RESTORE_STEP = "Restoring Environment Backup"
USERS_STEP = "Importing users and predefined roles"
FILES_STEP = "Uploading stored snapshots and files"
MAINTENANCE_STEP = "Setting daily maintenance start time to that of the backup"
STEPS = (RESTORE_STEP, USERS_STEP, FILES_STEP, MAINTENANCE_STEP)

CORE = (
    Component.ARTIFACTS,
    Component.CONFIGURATION,
    Component.JOBS,
    Component.JOB_CONSOLE,
    Component.APPLICATION_AUDIT,
    Component.DATA_MANAGEMENT,
    Component.SETTINGS,
)


@dataclass(frozen=True)
class RestoreRequest:
    backup_name: str
    users: bool = False
    maintenance_start_time: bool = True
    stored_snapshots_and_files: bool = False

    def to_params(self) -> dict[str, Any]:
        return asdict(self)


def run_restore(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = RestoreRequest(**op.params)
    with ctx.db.read() as conn:
        row = catalog.get(conn, request.backup_name, kind=catalog.ENVIRONMENT_BACKUP)
    manifest = load_manifest(ctx.blobs, row["manifest_id"])
    chosen = list(CORE)
    if request.users:
        chosen.append(Component.USERS)
    if request.stored_snapshots_and_files:
        chosen.append(Component.FILES)
    keep = frozenset() if request.maintenance_start_time else apply.MAINTENANCE_KEYS
    rec.plan(bytes_total=sum(e.size for c, e in manifest.entries() if c in {x.value for x in chosen}))
    with ctx.db.read() as conn:
        # What already has the backup's digest (and all its file contents) is left as it is.
        same = apply.already_equal(conn, ctx.blobs, row["digests"], chosen)
    with ArchiveReader(ctx.blobs, manifest) as reader, rec.step(RESTORE_STEP):
        apply.put_blobs(ctx.blobs, reader, [c for c in chosen if c not in same], lambda n: rec.advance(nbytes=n))
        rec.advance(nbytes=sum(e.size for c, e in manifest.entries() if c in {x.value for x in same}))

        def restore(conn: sa.Connection, component: Component) -> None:
            if component not in same:
                settings_keep = keep if component is Component.SETTINGS else frozenset()
                apply.replace(conn, reader, component, keep_settings=settings_keep)

        with ctx.db.begin() as conn:
            if apply.already_equal(conn, ctx.blobs, row["digests"], same) != same:
                raise Conflict("the environment changed while the restore started; nothing was changed")
            for component in CORE:
                restore(conn, component)
            _optional(rec, USERS_STEP, request.users, lambda: restore(conn, Component.USERS))
            _optional(rec, FILES_STEP, request.stored_snapshots_and_files, lambda: restore(conn, Component.FILES))
            _optional(rec, MAINTENANCE_STEP, request.maintenance_start_time, lambda: None)
            # Settings deliberately differ from the backup when the current start time was kept.
            apply.check_digests(conn, row["digests"], [c for c in chosen if not (c is Component.SETTINGS and keep)])
        with ctx.blob_refs, ctx.db.read() as conn:
            drop_unreferenced_blobs(conn, ctx.blobs)
        rec.set_result(backupName=request.backup_name, components=[c.value for c in chosen])


def _optional(rec: Recorder, step: str, wanted: bool, action: Callable[[], None]) -> None:
    if not wanted:
        rec.not_applicable(step)
        return
    with rec.step(step):
        action()
