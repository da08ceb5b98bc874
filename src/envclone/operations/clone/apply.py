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
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.transfer import ApplyRequest, ApplyResult
from envclone.engine import Recorder
from envclone.operations.apply_archive import Applying, ArchiveApply, apply_archive
from envclone.operations.context import OperationContext


def run_apply(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = ApplyRequest.model_validate(op.params)
    components = list(request.components)
    kept = frozenset(request.keep_settings)
    report: dict[str, Any] = {}
    decided: dict[str, Any] = {}  # the result, decided in the transaction

    def replace_and_compare(tx: Applying) -> None:
        before = {c: index_db(tx.conn, c) for c in tx.changing}
        tx.replace_all()
        for c in components:
            report[c.value] = compare(before[c], index_db(tx.conn, c)) if c in before else unchanged(tx.conn, c)
        # What the source reads back, decided with the commit: the transaction commits only with
        # every component at the digest the source sent (checked next), except settings whose keys
        # were kept, which are read here. A target stopped right after its commit reports it too.
        after = {
            c.value: component_digest(tx.conn, c)
            if c not in request.digests or (c is Component.SETTINGS and kept)
            else request.digests[c]
            for c in components
        }
        # Put before the commit: a report of an apply that then rolls back is never read (the
        # source asks for the report of a succeeded apply only).
        ctx.blobs.put(report_key(op.id), json.dumps(report, default=str).encode())
        summary = {name: {k: v for k, v in change.items() if k != "objects"} for name, change in report.items()}
        result = ApplyResult(archive_id=request.archive_id, components=components, digests=after, changes=summary)
        decided.update(result.model_dump(mode="json"))
        tx.result.update(decided)

    apply_archive(
        ctx,
        rec,
        ArchiveApply(
            manifest_id=request.archive_id,
            components=components,
            digests={c.value: d for c, d in request.digests.items()},
            step=RECREATE,
            changed_meanwhile="the target's content changed during the clone; nothing was changed",
            keep_settings=kept,
        ),
        replace_and_compare,
    )
    rec.phase(REPORT)  # computed in the transaction above: nothing is left to do after the commit
    rec.set_result(**decided)
