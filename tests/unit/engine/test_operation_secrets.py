"""An operation's secrets are kept sealed beside its record: the handler gets them in any process
that shares the key (a restart included), they are never in the database in clear, and they are
removed with the operation's final status."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from envclone.auth.sealing import Sealer
from envclone.domain.operation import Operation, OperationStatus
from envclone.engine import Engine, OperationKind, Recorder, Registry
from envclone.store import operation_secrets
from envclone.store.database import Database

SECRET = "correct-horse-battery-staple-42"
KEY = b"a-server-key-of-enough-length-000000"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    database.migrate()
    return database


def _engine(db: Database, seen: list[dict[str, str]], gate: threading.Event | None = None, **kw: Any) -> Engine:
    def handler(_ctx: object, op: Operation, _rec: Recorder) -> None:
        seen.append(dict(op.secrets))
        if gate is not None:
            gate.wait(10)

    registry = Registry()
    registry.register(OperationKind("needs_secret", handler, ("Working",), resumable=True))
    return Engine(db, registry, {}, runner_id="r1", workers=1, **kw)


def test_the_handler_gets_its_secrets_and_they_go_with_the_final_status(db: Database, tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []
    engine = _engine(db, seen, sealer=Sealer(KEY))
    op = engine.wait(engine.submit("needs_secret", {}, created_by="admin", secrets={"pw": SECRET}).id, 10)
    assert op.status is OperationStatus.SUCCEEDED
    assert seen == [{"pw": SECRET}]
    with db.read() as conn:
        assert operation_secrets.get(conn, op.id) is None
    assert SECRET.encode() not in (tmp_path / "ops.db").read_bytes()


class _DiesBeforeRunning(Engine):
    """A server that records an operation and stops before running it."""

    def _dispatch(self, op_id: str) -> None:
        return None


def test_secrets_are_sealed_at_rest_and_open_after_a_restart(db: Database, tmp_path: Path) -> None:
    registry = Registry()
    registry.register(OperationKind("needs_secret", lambda *_: None, ("Working",), resumable=True))
    gone = _DiesBeforeRunning(db, registry, {}, runner_id="r1", workers=1, sealer=Sealer(KEY))
    op = gone.submit("needs_secret", {}, created_by="admin", secrets={"pw": SECRET})
    with db.read() as conn:
        sealed = operation_secrets.get(conn, op.id)
    assert sealed is not None and SECRET.encode() not in sealed
    assert SECRET.encode() not in (tmp_path / "ops.db").read_bytes()
    # The next start (same key) resumes it, with its secrets.
    seen: list[dict[str, str]] = []
    restarted = _engine(db, seen, sealer=Sealer(KEY))
    assert op.id in restarted.recover()
    assert restarted.wait(op.id, 10).status is OperationStatus.SUCCEEDED
    assert seen == [{"pw": SECRET}]


def test_another_key_cannot_open_them(db: Database) -> None:
    seen: list[dict[str, str]] = []
    engine = _engine(db, seen, sealer=Sealer(KEY))
    op = engine.submit("needs_secret", {}, created_by="admin", secrets={"pw": SECRET})
    with db.read() as conn:
        sealed = operation_secrets.get(conn, op.id)
    engine.wait(op.id, 10)
    assert _engine(db, [], sealer=Sealer(b"another-key-of-enough-length-111111")).secrets_of(op.id, sealed) == {}
