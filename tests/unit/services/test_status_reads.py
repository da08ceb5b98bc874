"""Status reads without I/O: an operation running in this process is read from the engine's memory,
one that ended is read from the database once and then from memory for a moment; a read never shows
an operation running after the engine says it ended, a forgotten one is gone at once, and a reader
who may not see a clone's target still gets it hidden."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envclone.domain.operation import Operation, OperationStatus
from envclone.domain.principal import Principal
from envclone.engine import OperationKind, Recorder
from envclone.errors import NotFound
from envclone.server import build_context, build_registry
from envclone.services import operations
from envclone.services._redaction import HIDDEN
from envclone.services.context import ServiceContext
from envclone.settings import load_settings
from envclone.store import operations as repo
from tests.builders import sql_statements

KIND = "statusProbe"
ADMIN = Principal.of("admin", {"Service Administrator"})
VIEWER = Principal.of("viewer", {"Viewer"})


@pytest.fixture
def release() -> threading.Event:
    return threading.Event()


@pytest.fixture
def ctx(tmp_path: Path, release: threading.Event) -> Iterator[ServiceContext]:
    def hold(_context: Any, _op: Operation, rec: Recorder) -> None:
        with rec.step("Holding"):
            release.wait(30)

    registry = build_registry()
    registry.register(OperationKind(KIND, hold, ("Holding",)))
    settings = load_settings(data_dir=tmp_path, admin_password="pw-123456", scheduler=False)
    ctx, _admin = build_context(settings, registry)
    yield ctx
    release.set()
    ctx.engine.shutdown()
    ctx.db.dispose()


@pytest.fixture
def queries(ctx: ServiceContext) -> Iterator[list[str]]:
    """Every SQL statement sent to the environment's database."""
    with sql_statements(ctx.db.engine) as sent:
        yield sent


def start(ctx: ServiceContext) -> Operation:
    op = ctx.engine.submit(KIND, {"target_url": "http://peer.example:8080"}, created_by="admin")
    for _ in range(3000):
        seen = ctx.engine.running(op.id)
        if seen is not None and seen.status == OperationStatus.RUNNING:
            return op
        time.sleep(0.01)
    raise AssertionError("the operation did not start")


def test_a_running_operation_is_read_from_memory(
    ctx: ServiceContext, release: threading.Event, queries: list[str]
) -> None:
    op = start(ctx)
    queries.clear()
    seen = operations.peek_operation(ctx, ADMIN, op.id)
    assert seen is not None and seen.status == OperationStatus.RUNNING
    assert queries == []
    release.set()
    ctx.engine.wait(op.id, 30)
    # Ended: the engine no longer holds it, so only get_operation can tell, and tells the end.
    assert operations.peek_operation(ctx, ADMIN, op.id) is None
    assert operations.get_operation(ctx, ADMIN, op.id).status == OperationStatus.SUCCEEDED


def test_an_ended_operation_is_read_from_the_database_once(
    ctx: ServiceContext, release: threading.Event, queries: list[str]
) -> None:
    op = start(ctx)
    release.set()
    ctx.engine.wait(op.id, 30)
    queries.clear()
    assert operations.get_operation(ctx, ADMIN, op.id).status == OperationStatus.SUCCEEDED
    assert queries  # the first read asks the database
    queries.clear()
    for ref in (op.id, str(op.seq)):
        assert operations.get_operation(ctx, ADMIN, ref).status == OperationStatus.SUCCEEDED
        peeked = operations.peek_operation(ctx, ADMIN, ref)
        assert peeked is not None and peeked.status == OperationStatus.SUCCEEDED
    assert operations.get_by_number(ctx, ADMIN, op.seq).id == op.id
    assert queries == []


def test_a_forgotten_operation_is_gone_at_once(ctx: ServiceContext, release: threading.Event) -> None:
    op = start(ctx)
    release.set()
    ctx.engine.wait(op.id, 30)
    operations.get_operation(ctx, ADMIN, op.id)
    with ctx.db.begin() as conn:
        assert repo.forget(conn, op.id)
    assert operations.peek_operation(ctx, ADMIN, op.id) is None
    assert operations.peek_operation(ctx, ADMIN, op.seq) is None
    with pytest.raises(NotFound):
        operations.get_operation(ctx, ADMIN, op.id)
    with pytest.raises(NotFound):
        operations.get_by_number(ctx, ADMIN, op.seq)


def test_readers_see_from_memory_what_they_may(ctx: ServiceContext, release: threading.Event) -> None:
    op = start(ctx)
    running = operations.peek_operation(ctx, VIEWER, op.id)
    assert running is not None and running.params["target_url"] == HIDDEN
    release.set()
    ctx.engine.wait(op.id, 30)
    assert operations.get_operation(ctx, ADMIN, op.id).params["target_url"] == "http://peer.example:8080"
    ended = operations.peek_operation(ctx, VIEWER, op.id)
    assert ended is not None and ended.params["target_url"] == HIDDEN
    # The kept record is the administrator's view, unchanged by a viewer's read.
    assert operations.get_operation(ctx, ADMIN, op.id).params["target_url"] == "http://peer.example:8080"


def test_a_running_operations_view_goes_when_it_ends_or_is_cancelled(
    ctx: ServiceContext, release: threading.Event
) -> None:
    ctx.views.running_ttl = 600.0  # so that only the end and the cancel can take the view away
    op = start(ctx)
    seen = operations.peek_operation(ctx, ADMIN, op.id)
    assert seen is not None and not seen.cancel_requested
    operations.cancel(ctx, ADMIN, op.id)
    seen = operations.peek_operation(ctx, ADMIN, op.id)
    assert seen is not None and seen.cancel_requested
    release.set()
    ctx.engine.wait(op.id, 30)
    assert operations.peek_operation(ctx, ADMIN, op.id) is None
    assert operations.get_operation(ctx, ADMIN, op.id).status.is_terminal


def test_a_list_read_as_its_operation_ends_does_not_take_its_progress_back(
    ctx: ServiceContext, release: threading.Event
) -> None:
    """The page's row was read while the operation ran (a stale row: SQLite skips progress writes
    during a long transaction), and the operation ended before the list looked for its live view:
    the list shows the end, as a single read would, not the stale row."""
    op = start(ctx)
    with ctx.db.read() as conn:
        stale = repo.load(conn, op.id)
    assert stale.status == OperationStatus.RUNNING
    release.set()
    assert ctx.engine.wait(op.id, timeout=30).status == OperationStatus.SUCCEEDED
    ctx.views.ended(op.id)
    shown = operations._current(ctx, stale)  # the list's per-row step
    assert shown.status == OperationStatus.SUCCEEDED and shown.progress.percent == 100.0
