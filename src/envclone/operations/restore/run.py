"""The restore operation: the archive-applying sequence (operations.apply_archive) over an
Environment Backup of this environment's catalogue or one uploaded as a stored snapshot
(operations.stored_snapshots), reporting the optional users, files and maintenance start time
steps from inside its transaction. A damaged backup, a crash or a digest mismatch leaves the
environment exactly as it was."""

from __future__ import annotations

from collections.abc import Callable

from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.restore import CORE, FILES_STEP, MAINTENANCE_STEP, RESTORE_STEP, USERS_STEP, RestoreRequest
from envclone.engine import Recorder
from envclone.operations.apply_archive import Applying, ArchiveApply, apply_archive
from envclone.operations.context import OperationContext
from envclone.operations.stored_snapshots import environment_backup


def run_restore(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = RestoreRequest.model_validate(op.params)
    row = environment_backup(ctx, request.backup_name)
    chosen = request.components()

    def in_steps(tx: Applying) -> None:
        for component in CORE:
            tx.replace(component)
        _optional(rec, USERS_STEP, request.users, lambda: tx.replace(Component.USERS))
        _optional(rec, FILES_STEP, request.stored_snapshots_and_files, lambda: tx.replace(Component.FILES))
        _optional(rec, MAINTENANCE_STEP, request.maintenance_start_time, lambda: None)

    apply_archive(
        ctx,
        rec,
        ArchiveApply(
            manifest_id=row["manifest_id"],
            components=chosen,
            digests=row["digests"],
            step=RESTORE_STEP,
            changed_meanwhile="the environment changed while the restore started; nothing was changed",
            keep_settings=request.keep_settings(),
            repair_blobs=True,
        ),
        in_steps,
    )
    rec.set_result(backupName=request.backup_name, components=[c.value for c in chosen])


def _optional(rec: Recorder, step: str, wanted: bool, action: Callable[[], None]) -> None:
    if not wanted:
        rec.not_applicable(step)
        return
    with rec.step(step):
        action()
