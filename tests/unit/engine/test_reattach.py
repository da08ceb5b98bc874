"""An operation whose work goes on elsewhere (a clone's target applying) and whose server stops:
at restart it runs again as it stood, with what it recorded and the secrets it learnt, when its
kind says it can reattach; otherwise it fails as interrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.auth.sealing import Sealer
from envclone.domain.operation import Operation, OperationStatus
from envclone.engine import Engine, OperationKind, Recorder, Registry
from envclone.store.database import Database

KEY = b"a-server-key-of-enough-length-000000"


class _Crash(BaseException):
    """The process stopping in the middle of a handler: nothing after it runs."""


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.migrate()
    return database


def _engine(db: Database, seen: list[tuple[str, str]], *, hand_over: bool) -> Engine:
    def handler(_ctx: object, op: Operation, rec: Recorder) -> None:
        if "elsewhere" in op.result:  # run again after a restart: follow what was started
            seen.append((op.result["elsewhere"], op.secrets.get("receipt", "")))
            return
        with rec.step("Working"):
            if hand_over:
                rec.keep_secret("receipt", "r-123")
                rec.set_result(elsewhere="job-1")
            raise _Crash()

    registry = Registry()
    registry.register(OperationKind("follows", handler, ("Working",), reattach=lambda op: "elsewhere" in op.result))
    return Engine(db, registry, {}, runner_id="r1", workers=1, sealer=Sealer(KEY))


def test_an_operation_whose_work_went_on_elsewhere_is_followed_after_a_restart(db: Database) -> None:
    seen: list[tuple[str, str]] = []
    first = _engine(db, seen, hand_over=True)
    op = first.submit("follows", {}, created_by="admin")
    with pytest.raises(_Crash):
        first.wait(op.id, 10)
    assert first.get(op.id).status is OperationStatus.RUNNING  # as a killed server leaves it

    restarted = _engine(db, seen, hand_over=True)
    assert restarted.recover() == [op.id]
    done = restarted.wait(op.id, 10)
    assert done.status is OperationStatus.SUCCEEDED, done
    assert seen == [("job-1", "r-123")]  # its result and the secret it learnt, after the restart
    assert done.result["elsewhere"] == "job-1"


def test_one_that_never_handed_its_work_over_fails_as_interrupted(db: Database) -> None:
    seen: list[tuple[str, str]] = []
    first = _engine(db, seen, hand_over=False)
    op = first.submit("follows", {}, created_by="admin")
    with pytest.raises(_Crash):
        first.wait(op.id, 10)
    restarted = _engine(db, seen, hand_over=False)
    assert restarted.recover() == []
    failed = restarted.get(op.id)
    assert (failed.status, failed.error_code) == (OperationStatus.FAILED, "interrupted")
    assert seen == []
