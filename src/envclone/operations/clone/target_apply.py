"""The target's apply as the cloning source sees it: asked for, followed until it ends (through a
target that goes away and comes back), cancelled while the target still can stop, and its outcome
taken as the clone's. What a restarted source needs to ask again (the apply's id in the result,
its receipt sealed as a secret) is kept as soon as the target accepts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from envclone.domain.clone import APPLY, report_key
from envclone.domain.operation import Operation, OperationStatus
from envclone.domain.transfer import ApplyAccepted, ApplyRequest, ApplyStatus
from envclone.engine import Cancelled, Recorder, faults
from envclone.errors import Conflict, EnvcloneError, NotCancellable
from envclone.operations.clone.errors import TargetApplyFailed, TargetLost
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError

POLL_SECONDS = 0.5  # the longest wait between two reads of the target's apply
FIRST_POLL_SECONDS = 0.05  # the first: an apply with little to change ends within a second
LOST_SECONDS = 120.0  # how long a target that stopped answering mid-apply is waited for
APPLY_ID = "targetApply"  # in the clone's result: the target's apply, once it accepted
SENT_DIGESTS = "sentDigests"  # in the clone's result: what the target must hold after it
RECEIPT = "apply_receipt"  # the clone's secret: reads that one apply's status on the target


def reattaches(op: Operation) -> bool:
    """Whether a clone stopped by a restart had asked its target to apply: then only the target
    knows how it ended, and the restarted source asks it (engine: OperationKind.reattach)."""
    return APPLY_ID in op.result


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

    @classmethod
    def asked_before(cls, peer: PeerClient, apply_id: str, receipt: str) -> TargetApply:
        """The apply a previous run of this server asked for (a restarted source follows it)."""
        target = cls(peer)
        target._accepted = ApplyAccepted(id=apply_id, status=OperationStatus.RUNNING, receipt=receipt)
        target._asked.set()
        return target

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
    pause = FIRST_POLL_SECONDS  # grows to POLL_SECONDS: a short apply is not waited for half a second more
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
        time.sleep(pause)
        pause = min(POLL_SECONDS, pause * 1.5)
        rec.flush()


def ask(target: TargetApply, rec: Recorder, request: ApplyRequest, digests: dict[str, str]) -> ApplyAccepted:
    """Ask the target to apply and keep what a restarted source needs to follow it."""
    accepted = target.start(request, rec.check_cancelled)
    rec.keep_secret(RECEIPT, accepted.receipt)
    rec.set_result(**{APPLY_ID: accepted.id, SENT_DIGESTS: digests})
    faults.point(faults.APPLYING, rec.op.kind)
    return accepted


def follow(ctx: OperationContext, peer: PeerClient, rec: Recorder, apply_id: str, receipt: str) -> None:
    """Wait for the target's apply and take its outcome: the clone's cancel goes to the target
    meanwhile; a succeeded apply is the clone's point of no return and brings its digests and
    report; any other end fails or cancels the clone, the target left as it was."""
    rec.phase(APPLY)
    final = _wait_for(peer, apply_id, receipt, rec)
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
        ctx.blobs.put(report_key(rec.op.id), peer.apply_report(apply_id, receipt))
        rec.set_result(report=f"/v1/clone/{rec.op.id}/report")
    except PeerError:  # the clone itself succeeded; only its detailed report is missing
        rec.set_result(report=None)
