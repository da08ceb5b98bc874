"""Test-only fault points: ``ENVCLONE_FAULT=<point>:<operation kind>`` makes this server kill
itself (SIGKILL, no clean-up, exactly as a crash) when an operation of that kind reaches the
named point, so that crash tests hit windows no outside timing can (a kill right after a commit).
Never set it in production. Unset, a fault point is one comparison with an empty string."""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger("envclone.faults")

# Read once, at import: a server's fault is fixed for its life, and a point then costs nothing.
_ARMED = os.environ.get("ENVCLONE_FAULT", "")

# The points operations pass, in the order an apply or a clone reaches them.
BEFORE_TRANSACTION = "before_transaction"  # an apply: file contents put, its transaction not begun
BEFORE_COMMIT = "before_commit"  # an apply: everything written in the transaction, not committed
AFTER_COMMIT = "after_commit"  # an apply: committed, the final status not yet written
BEFORE_APPLY = "before_apply"  # a clone's source: the archive sent, the target not yet asked
APPLYING = "applying"  # a clone's source: the target accepted the apply and works on it
TARGET_COMMITTED = "target_committed"  # a clone's source: the target reported its apply succeeded


def point(name: str, kind: str) -> None:
    """Die here if this process was started with ``ENVCLONE_FAULT=<name>:<kind>``."""
    if _ARMED and f"{name}:{kind}" == _ARMED:
        log.warning("fault point %s:%s reached: killing this server (ENVCLONE_FAULT)", name, kind)
        os.kill(os.getpid(), signal.SIGKILL)
