"""The archive-applying sequence (operations.apply_archive, run by a restore and by a clone's
target) as progress names it: its phases, weighted by the time each takes, inside the caller's
step. Pure: no I/O."""

from __future__ import annotations

from envclone.domain.progress import Phase

COMPARE = "compare"  # which components already hold the archive's content (their digests)
STAGE = "stage"  # file contents put in the blob store, before the transaction
RECHECK = "recheck"  # in the transaction: the components left as they are still hold the archive's content
REPLACE = "replace"  # the changing components replaced, in the transaction
VERIFY = "verify"  # the replaced components' digests checked against the archive's, in the transaction
CLEANUP = "cleanup"  # blobs nothing refers to any more dropped


def apply_phases(step: str) -> tuple[Phase, ...]:
    """Weighted as a medium environment's apply spends its time: comparing and verifying compute
    digests over everything, replacing writes what changed."""
    return (
        Phase(COMPARE, 15, step),
        Phase(STAGE, 10, step),
        Phase(RECHECK, 15, step),
        Phase(REPLACE, 30, step),
        Phase(VERIFY, 25, step),
        Phase(CLEANUP, 5, step),
    )
