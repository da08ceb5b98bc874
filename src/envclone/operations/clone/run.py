"""The source's side of a clone, step by step as EPM reports it: validate and pick the archive
(and report which, how old, and whether the source changed since it was taken), log in to the
target, check its version and service type (the plan, plan.py, shared with the dry run), send what
it lacks and have it apply the archive atomically ("recreate"), report each option, then prove
equality by digests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from envclone.archive import Manifest, load_manifest
from envclone.domain.clone import (
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
)
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.transfer import ApplyRequest
from envclone.engine import Recorder, faults
from envclone.errors import EnvcloneError
from envclone.operations.clone.errors import TargetLost, peer_failure
from envclone.operations.clone.plan import ClonePlan, snapshot_report
from envclone.operations.clone.send import send_archive
from envclone.operations.clone.target_apply import (
    APPLY_ID,
    RECEIPT,
    SENT_DIGESTS,
    TargetApply,
    ask,
    follow,
    reattaches,
)
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError


def run_clone(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = CloneRequest.model_validate(op.params)
    password = op.secrets.get("target_password")
    if reattaches(op):
        _reattach(ctx, rec, request, password)
        return
    if not password:
        raise EnvcloneError("the target password is no longer available (the server restarted); start the clone again")
    clone_environment(ctx, rec, request, password)


def clone_environment(ctx: OperationContext, rec: Recorder, request: CloneRequest, password: str) -> None:
    """The clone's steps (domain.clone.STEPS) in ``rec``: a clone, or a replication job's run."""
    plan = ClonePlan(ctx, request)
    with rec.step(VALIDATE):
        row = plan.archive()
        base = load_manifest(ctx.blobs, row["manifest_id"])
        snapshot, warning = snapshot_report(ctx, request, row, plan.components, remember=True)
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
    _after_apply(rec, plan, digests)


def _after_apply(rec: Recorder, plan: ClonePlan, digests: dict[str, str]) -> None:
    for option in OPTIONS:
        if plan.options[option.name]:
            with rec.step(option.step):
                pass  # applied atomically with the recreate step above
        else:
            reason = "does not apply to this service type" if plan.options[option.name] is None else "not selected"
            rec.not_applicable(option.step, reason)
    with rec.step(MIGRATION):
        _compare(rec.op.result.get("targetDigests", {}), digests, plan.components, plan.keep_settings)


def _reattach(ctx: OperationContext, rec: Recorder, request: CloneRequest, password: str | None) -> None:
    """A restarted source whose target had accepted the apply: the target alone knows how it
    ended, so the clone follows it there (through its receipt) and ends as it did."""
    apply_id, receipt = str(rec.op.result[APPLY_ID]), rec.op.secrets.get(RECEIPT)
    if not receipt:
        raise TargetLost(
            f"the server restarted after the target at {request.target_url} was asked to apply the clone (its "
            f"apply {apply_id}), and the receipt to ask it how that ended is lost: whether the target holds the "
            "new content is unknown; its apply's status there says"
        )
    plan = ClonePlan(ctx, request)
    try:
        # The receipt is the credential; the login may no longer exist there (migrateUsers).
        with PeerClient(request.target_url, request.target_user, password or "") as peer:
            with rec.step(RECREATE):
                target = TargetApply.asked_before(peer, apply_id, receipt)
                with rec.cancel_forwarded_to(target.cancel):
                    rec.check_cancelled()
                    follow(ctx, peer, rec, apply_id, receipt)
            _after_apply(rec, plan, dict(rec.op.result.get(SENT_DIGESTS, {})))
    except PeerError as exc:
        raise peer_failure(exc, request.target_url) from None
    rec.set_result(cloneCompletedTime=dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


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
    target = TargetApply(peer)
    faults.point(faults.BEFORE_APPLY, rec.op.kind)
    with rec.cancel_forwarded_to(target.cancel):
        accepted = ask(target, rec, request, digests)
        follow(ctx, peer, rec, accepted.id, accepted.receipt)
    return digests


def _compare(actual: dict[str, str], expected: dict[str, str], components: list[Component], kept: list[str]) -> None:
    differing = [
        c.value
        for c in components
        if c.value in expected and not (c is Component.SETTINGS and kept) and actual.get(c.value) != expected[c.value]
    ]
    if differing:
        raise EnvcloneError(f"after the clone the target differs from the source in: {', '.join(differing)}")
