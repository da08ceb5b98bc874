"""The target's side of a clone: the archive-applying sequence (operations.apply_archive) over an
archive whose chunks and manifest a source has sent, as the "recreate service" step, checked
against the source's digests before it commits, with a before/after change report. Any failure
leaves the target as it was."""

from __future__ import annotations

import json
from typing import Any

from envclone.content.diff import compare, index_db, unchanged
from envclone.content.digest import component_digest
from envclone.domain.clone import RECREATE, REPORT, report_key
from envclone.domain.operation import Operation
from envclone.domain.transfer import ApplyRequest, ApplyResult
from envclone.engine import Recorder
from envclone.operations.apply_archive import Applying, ArchiveApply, apply_archive
from envclone.operations.context import OperationContext


def run_apply(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = ApplyRequest.model_validate(op.params)
    components = list(request.components)
    report: dict[str, Any] = {}

    def replace_and_compare(tx: Applying) -> None:
        before = {c: index_db(tx.conn, c) for c in tx.changing}
        tx.replace_all()
        for c in components:
            report[c.value] = compare(before[c], index_db(tx.conn, c)) if c in before else unchanged(tx.conn, c)

    manifest = apply_archive(
        ctx,
        rec,
        ArchiveApply(
            manifest_id=request.archive_id,
            components=components,
            digests={c.value: d for c, d in request.digests.items()},
            step=RECREATE,
            changed_meanwhile="the target's content changed during the clone; nothing was changed",
            keep_settings=frozenset(request.keep_settings),
        ),
        replace_and_compare,
    )
    rec.phase(REPORT)
    with ctx.db.read() as conn:
        # What the source compares with its own: read through the receipt, since the apply may
        # have replaced the users the source logged in as. The apply cached each digest it
        # verified (at the new generation), so only what changed since, or was not verified
        # (settings whose keys were kept), is computed here.
        after = {c.value: component_digest(conn, c) for c in components}
    ctx.blobs.put(report_key(op.id), json.dumps(report, default=str).encode())
    summary = {name: {k: v for k, v in change.items() if k != "objects"} for name, change in report.items()}
    result = ApplyResult(archive_id=manifest.archive_id, components=components, digests=after, changes=summary)
    rec.set_result(**result.model_dump(mode="json"))
