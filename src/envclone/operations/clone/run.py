"""The source's side of a clone, step by step as EPM reports it: validate and pick the archive,
log in to the target, check its version and service type (the plan, plan.py, shared with the dry
run), send what it lacks and have it apply the archive atomically ("recreate"), report each option,
then prove equality by digests."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from envclone.archive import Manifest, load_manifest
from envclone.domain.clone import (
    APPLY,
    COMPOSE,
    LOGIN,
    MIGRATION,
    OPTIONS,
    RECREATE,
    SERVICE,
    TRANSFER,
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
        rec.set_result(
            backupName=row["name"],
            backupCreatedTime=row["created"].isoformat(timespec="seconds"),
            options=plan.options,
            components=[c.value for c in plan.components],
        )
    try:
        with PeerClient(request.target_url, request.target_user, password) as peer:
            _clone_to(ctx, peer, rec, plan, row, base)
    except PeerError as exc:  # anything the target said or failed to say past login
        raise peer_failure(exc, request.target_url) from None
    rec.set_result(cloneCompletedTime=dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


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
    rec.phase(COMPOSE)
    manifest, digests = plan.to_send(row, base, rec)
    rec.phase(TRANSFER)
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
    rec.phase(APPLY)
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
        rec.measured(remote.progress.percent / 100)  # the target's progress is this clone's apply phase
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
