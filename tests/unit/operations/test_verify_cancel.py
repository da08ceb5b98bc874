"""A verification honours a cancel between chunks (it only reads, so stopping anywhere is safe):
it once ran to its end whatever the user asked, answering the cancel 202 and then succeeding."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.domain import maintenance, verify
from envclone.domain.operation import OperationStatus, Step
from envclone.engine import Recorder
from envclone.engine.recorder import Cancelled
from envclone.operations.verify import run_verify
from envclone.store import archives
from envclone.store import operations as repo
from tests.builders import make_context


def test_a_cancelled_verification_stops(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    try:
        done = ctx.engine.wait(ctx.engine.submit(maintenance.KIND, {}, created_by="admin").id, timeout=120)
        assert done.status is OperationStatus.SUCCEEDED
        with ctx.db.read() as conn:
            latest = archives.latest(conn, "environment_backup")
        assert latest is not None
        name = latest["name"]
        # The operation recorded and its cancel asked before it checks a chunk (not dispatched: run here).
        with ctx.db.begin() as conn:
            op = repo.create(conn, verify.KIND, {"backup_name": name}, [Step(verify.STEP)], "admin", False)
            assert repo.request_cancel(conn, op.id)
        rec = Recorder(ctx.db, op)
        with pytest.raises(Cancelled):
            run_verify(ctx, op, rec)
        with ctx.db.read() as conn:
            assert archives.get(conn, name)["verified"] is None  # stopped before recording a result
    finally:
        ctx.engine.shutdown()
