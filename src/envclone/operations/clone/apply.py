"""The target's side of a clone: apply an archive whose chunks and manifest a source has sent,
replacing the chosen components in one transaction (the "recreate service" step), checked against
the source's digests before it commits. Any failure leaves the target as it was."""

from __future__ import annotations

import json

from envclone.archive import ArchiveReader, load_manifest
from envclone.content import apply
from envclone.content.diff import compare, index_db, unchanged
from envclone.content.digest import compute_component
from envclone.content.replace import drop_unreferenced_blobs
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.engine import Recorder
from envclone.errors import Conflict
from envclone.operations.context import OperationContext

KIND = "applyClone"
STEP = "Performing recreate service on target environment"
STEPS = (STEP,)


def run_apply(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    components = [Component(c) for c in op.params["components"]]
    keep = frozenset(op.params.get("keep_settings", []))
    digests: dict[str, str] = op.params.get("digests", {})
    manifest = load_manifest(ctx.blobs, str(op.params["archive_id"]))
    rec.plan(bytes_total=sum(e.size for c, e in manifest.entries() if c in {x.value for x in components}))
    with ctx.db.read() as conn:
        # A component the target already holds exactly (a clone of an unchanged source) is
        # neither read from the archive nor rewritten; its blobs are already here too.
        same = apply.already_equal(conn, ctx.blobs, digests, components)
    changing = [c for c in components if c not in same]
    with ArchiveReader(ctx.blobs, manifest) as reader, rec.step(STEP):
        apply.put_blobs(ctx.blobs, reader, changing, lambda n: rec.advance(nbytes=n))
        rec.advance(nbytes=sum(e.size for c, e in manifest.entries() if c in {x.value for x in same}))
        with ctx.db.begin() as conn:
            if apply.already_equal(conn, ctx.blobs, digests, same) != same:
                raise Conflict("the target's content changed during the clone; nothing was changed")
            before = {c: index_db(conn, c) for c in changing}
            for component in changing:
                apply.replace(
                    conn, reader, component, keep_settings=keep if component is Component.SETTINGS else frozenset()
                )
            apply.check_digests(conn, digests, [c for c in changing if not (c is Component.SETTINGS and keep)])
            report = {
                c.value: compare(before[c], index_db(conn, c)) if c in before else unchanged(conn, c)
                for c in components
            }
        with ctx.blob_refs, ctx.db.read() as conn:
            drop_unreferenced_blobs(conn, ctx.blobs)
            # What the source compares with its own: read through the receipt, since the apply may
            # have replaced the users the source logged in as.
            after = {c.value: compute_component(conn, c) for c in components}
    ctx.blobs.put(report_key(op.id), json.dumps(report, default=str).encode())
    summary = {name: {k: v for k, v in change.items() if k != "objects"} for name, change in report.items()}
    rec.set_result(
        archive_id=manifest.archive_id, components=[c.value for c in components], digests=after, changes=summary
    )


def report_key(op_id: str) -> str:
    return f"reports/{op_id}.json"
