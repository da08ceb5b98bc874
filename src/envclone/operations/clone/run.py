"""The source's side of a clone, step by step as EPM reports it: validate and pick the archive
(and report which, how old, and whether the source changed since it was taken), log in to the
target, check its version and service type (the plan, plan.py, shared with the dry run), send what
it lacks and have it apply the archive atomically ("recreate"), report each option, then prove
equality by digests."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
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
from envclone.domain.transfer import ApplyAccepted, ApplyRequest, ApplyStatus
from envclone.engine import Cancelled, Recorder, faults
from envclone.errors import Conflict, EnvcloneError, NotCancellable
from envclone.operations.clone.errors import TargetApplyFailed, TargetLost, peer_failure
from envclone.operations.clone.plan import ClonePlan, snapshot_report
from envclone.operations.clone.send import send_archive
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError

POLL_SECONDS = 0.5
LOST_SECONDS = 120.0  # how long a target that stopped answering mid-apply is waited for


def run_clone(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = CloneRequest.model_validate(op.params)
    password = op.secrets.get("target_password")
    if not password:
        raise EnvcloneError("the target password is no longer available (the server restarted); start the clone again")
    clone_environment(ctx, rec, request, password)


def clone_environment(ctx: OperationContext, rec: Recorder, request: CloneRequest, password: str) -> None:
    """The clone's steps (domain.clone.STEPS) in ``rec``: a clone, or a replication job's run."""
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
    target = TargetApply(peer)
    faults.point(faults.BEFORE_APPLY, rec.op.kind)
    with rec.cancel_forwarded_to(target.cancel):
        accepted = target.start(request, rec.check_cancelled)
        faults.point(faults.APPLYING, rec.op.kind)
        rec.phase(APPLY)
        final = _wait_for(peer, accepted.id, accepted.receipt, rec)
        if final.status is OperationStatus.SUCCEEDED:
            faults.point(faults.TARGET_COMMITTED, rec.op.kind)
            # The target has its new content: the clone itself can no longer be undone.
            rec.mark_point_of_no_return()
    if final.status is OperationStatus.CANCELLED:
        raise Cancelled("the target's apply was cancelled; the target was left unchanged")
    if final.status is not OperationStatus.SUCCEEDED:
        message = final.error.message if final.error else None
        raise TargetApplyFailed(f"the target could not apply the clone and was left unchanged: {message}")
    rec.set_result(targetDigests=final.result.digests, changes=final.result.changes)
    try:
        ctx.blobs.put(report_key(rec.op.id), peer.apply_report(accepted.id, accepted.receipt))
        rec.set_result(report=f"/v1/clone/{rec.op.id}/report")
    except PeerError:  # the clone itself succeeded; only its detailed report is missing
        rec.set_result(report=None)
    return digests


class TargetApply:
    """The target's apply as the clone's cancel sees it. A user who cancels a clone expects the
    target left as it was whenever that is still possible, and only the target knows whether it
    is: so while the target applies, a cancel of the clone is passed on to the target's apply at
    once (the engine calls ``cancel`` before recording its own), accepted if the target has not
    reached its point of no return, and refused with the target's reason if it has. Refusing
    every cancel once the target had been asked would be simpler, but would refuse while the
    target is still only putting file contents, which can take most of the apply's time. The
    forward happens in the process that runs the clone: one server runs its own operations."""

    ANSWER_SECONDS = 60.0  # how long a cancel waits for the target to answer the apply request

    def __init__(self, peer: PeerClient) -> None:
        self._peer = peer  # httpx clients may be shared between threads
        self._asked = threading.Event()
        self._accepted: ApplyAccepted | None = None

    def start(self, request: ApplyRequest, check_cancelled: Callable[[], None]) -> ApplyAccepted:
        """Ask the target to apply, unless a cancel came first (one recorded before the forward
        was in place): then the clone stops here, the target never asked."""
        try:
            check_cancelled()
            self._accepted = self._peer.apply(request)
        except PeerError as exc:
            if exc.status == 409:
                raise Conflict(f"the target environment is busy: {exc.message}") from None
            raise EnvcloneError(f"the target refused the clone: {exc.message}") from None
        finally:
            self._asked.set()
        return self._accepted

    def cancel(self) -> None:
        """Called in the thread that asks for the cancel: raises NotCancellable to refuse it."""
        if not self._asked.wait(self.ANSWER_SECONDS):
            raise NotCancellable("the target has not yet answered the request to apply the clone; try again")
        if self._accepted is None:
            return  # the target was never asked, or refused: the clone stops here anyway
        try:
            self._peer.cancel_apply(self._accepted.id, self._accepted.receipt)
        except PeerError as exc:
            if exc.status == 409:
                raise NotCancellable(f"the clone can no longer be cancelled: on the target, {exc.message}") from None
            raise NotCancellable(
                f"the target could not be asked to stop applying the clone ({exc.message}); try again"
            ) from None


def _wait_for(peer: PeerClient, op_id: str, receipt: str, rec: Recorder) -> ApplyStatus:
    """The target's apply until it ends. A target that stops answering meanwhile is waited for up
    to LOST_SECONDS: the apply may have committed before it went away, and a target that comes
    back reports what it did (its own recovery decides), which only it can know. Giving up at
    once would report a clone failed whose target holds the new content."""
    lost_since: float | None = None
    while True:
        try:
            remote = peer.apply_status(op_id, receipt)
        except PeerError as exc:
            if exc.status != 0:
                raise
            lost_since = lost_since or time.monotonic()
            if time.monotonic() - lost_since > LOST_SECONDS:
                raise TargetLost(
                    f"the target at {peer.url} stopped answering while it applied the clone (its apply "
                    f"{op_id}) and did not come back within {LOST_SECONDS:.0f} seconds: whether it holds the "
                    "new content is unknown; its apply's status there says"
                ) from None
            time.sleep(POLL_SECONDS)
            continue
        lost_since = None
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
