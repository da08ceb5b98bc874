"""The source's side of a clone, step by step as EPM reports it: validate and pick the archive
(and report which, how old, and whether the source changed since it was taken), log in to the
target, check its version and service type (the plan, plan.py, shared with the dry run), send what
it lacks and have it apply the archive atomically ("recreate"), report each option, then prove
equality by digests."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from envclone.archive import Manifest, load_manifest
from envclone.content.digest import component_digest
from envclone.domain.archives import age_text
from envclone.domain.clone import (
    LOGIN,
    MIGRATION,
    OPTIONS,
    RECREATE,
    SERVICE,
    VALIDATE,
    VERSION,
    CloneRequest,
    report_key,
)
from envclone.domain.components import Component
from envclone.domain.operation import Operation, OperationStatus
from envclone.domain.transfer import ApplyRequest, ApplyStatus
from envclone.engine import Recorder
from envclone.errors import Conflict, EnvcloneError
from envclone.operations.clone.errors import peer_failure
from envclone.operations.clone.plan import ClonePlan
from envclone.operations.clone.send import send_archive
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError
from envclone.store.database import generation

POLL_SECONDS = 0.5


def run_clone(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = CloneRequest.model_validate(op.params)
    password = op.secrets.get("target_password")
    if not password:
        raise EnvcloneError("the target password is no longer available (the server restarted); start the clone again")
    plan = ClonePlan(ctx, request)
    with rec.step(VALIDATE):
        row = plan.archive()
        base = load_manifest(ctx.blobs, row["manifest_id"])
        snapshot, warning = snapshot_report(ctx, request, row, plan.components)
        rec.set_result(
            backupName=row["name"],
            backupCreatedTime=row["created"].isoformat(timespec="seconds"),
            options=plan.options,
            components=[c.value for c in plan.components],
            snapshot=snapshot,
            warnings=[warning] if warning else [],
        )
    try:
        with PeerClient(request.target_url, request.target_user, password) as peer:
            _clone_to(ctx, peer, rec, plan, row, base)
    except PeerError as exc:  # anything the target said or failed to say past login
        raise peer_failure(exc, request.target_url) from None
    rec.set_result(cloneCompletedTime=dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


def changed_since(ctx: OperationContext, row: dict[str, Any], components: list[Component]) -> list[str] | None:
    """The components the clone takes from the archive whose live content no longer has the digest
    the archive recorded: the source changed since the snapshot. A component whose change counter
    is still the archive's is unchanged without reading it; the others' digests are compared. None
    for a snapshot from another environment (no counters recorded): it has no "since"."""
    generations: dict[str, int] | None = row.get("generations")
    if not generations:
        return None
    recorded: dict[str, str] = row["digests"]
    changed = []
    with ctx.db.read() as conn:
        for component in components:
            name = component.value
            if name not in recorded or generations.get(name) == generation(conn, component):
                continue
            if component_digest(conn, component) != recorded[name]:
                changed.append(name)
    return changed


def snapshot_report(
    ctx: OperationContext, request: CloneRequest, row: dict[str, Any], components: list[Component]
) -> tuple[dict[str, Any], str | None]:
    """Which snapshot the clone sends, how old it is, and whether the source changed since, with
    the warning to give when it did: the target gets the snapshot's content, not the current one,
    and a clone without a fresh daily maintenance must not pass that over in silence."""
    created: dt.datetime = row["created"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    age = max(0, int((now - created).total_seconds()))
    changed = changed_since(ctx, row, components)
    warning = None
    if changed:
        advice = (
            "name a newer snapshot, or run daily maintenance (runDailyMaintenance) and clone again"
            if request.names_snapshot
            else "run daily maintenance (runDailyMaintenance) and clone again"
        )
        warning = (
            f"the source environment changed since the snapshot {row['name']} was taken {age_text(age)} ago: "
            f"its {', '.join(changed)} differ from the snapshot's, and the target gets the snapshot's content, "
            f"not the current one; to clone the current content, {advice}"
        )
    report = {
        "name": row["name"],
        "kind": str(row["kind"]),
        "created": created.isoformat(timespec="seconds"),
        "ageSeconds": age,
        "changedSince": changed,
        "stale": bool(changed),
    }
    return report, warning


def _clone_to(
    ctx: OperationContext, peer: PeerClient, rec: Recorder, plan: ClonePlan, row: dict[str, Any], base: Manifest
) -> None:
    with rec.step(LOGIN):
        target = plan.login(peer)
        plan.require(LOGIN, target, row)
    with rec.step(VERSION):
        plan.require(VERSION, target, row)
    with rec.step(SERVICE):
        plan.require(SERVICE, target, row)
    with rec.step(RECREATE):
        digests = _send_and_apply(ctx, peer, rec, plan, row, base)
    for option in OPTIONS:
        if plan.options[option.name]:
            with rec.step(option.step):
                pass  # applied atomically with the recreate step above
        else:
            reason = "does not apply to this service type" if plan.options[option.name] is None else "not selected"
            rec.not_applicable(option.step, reason)
    with rec.step(MIGRATION):
        _compare(rec.op.result.get("targetDigests", {}), digests, plan.components, plan.keep_settings)


def _send_and_apply(
    ctx: OperationContext, peer: PeerClient, rec: Recorder, plan: ClonePlan, row: dict[str, Any], base: Manifest
) -> dict[str, str]:
    manifest, digests = plan.to_send(row, base)
    rec.plan(bytes_total=sum(e.size for c, e in manifest.entries()))
    missing = plan.missing(peer, manifest, rec.check_cancelled)
    stats = send_archive(ctx.blobs, peer, manifest, missing, lambda n: rec.advance(nbytes=n), rec.check_cancelled)
    rec.set_result(
        chunks=stats.chunks, chunksSent=stats.chunks_sent, bytesSent=stats.bytes_sent, bytesTotal=stats.bytes_total
    )
    request = ApplyRequest(
        archive_id=manifest.archive_id,
        components=sorted(plan.components),
        keep_settings=plan.keep_settings,
        digests={Component(name): digest for name, digest in digests.items()},
        source={"environment": ctx.settings.environment_name, "version": ctx.settings.version},
    )
    try:
        accepted = peer.apply(request)
    except PeerError as exc:
        if exc.status == 409:
            raise Conflict(f"the target environment is busy: {exc.message}") from None
        raise EnvcloneError(f"the target refused the clone: {exc.message}") from None
    final = _wait_for(peer, accepted.id, accepted.receipt, rec)
    if final.status is not OperationStatus.SUCCEEDED:
        message = final.error.message if final.error else None
        raise EnvcloneError(f"the target could not apply the clone and was left unchanged: {message}")
    rec.set_result(targetDigests=final.result.digests, changes=final.result.changes)
    try:
        ctx.blobs.put(report_key(rec.op.id), peer.apply_report(accepted.id, accepted.receipt))
        rec.set_result(report=f"/v1/clone/{rec.op.id}/report")
    except PeerError:  # the clone itself succeeded; only its detailed report is missing
        rec.set_result(report=None)
    return digests


def _wait_for(peer: PeerClient, op_id: str, receipt: str, rec: Recorder) -> ApplyStatus:
    while True:
        remote = peer.apply_status(op_id, receipt)
        if remote.status.is_terminal:
            return remote
        time.sleep(POLL_SECONDS)
        rec.flush()


def _compare(actual: dict[str, str], expected: dict[str, str], components: list[Component], kept: list[str]) -> None:
    differing = [
        c.value
        for c in components
        if c.value in expected and not (c is Component.SETTINGS and kept) and actual.get(c.value) != expected[c.value]
    ]
    if differing:
        raise EnvcloneError(f"after the clone the target differs from the source in: {', '.join(differing)}")
