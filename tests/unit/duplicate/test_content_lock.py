"""A cross-environment target holds the environment's content lock only while it imports: while it
waits for the source's package, exclusive operations here are accepted; once its package is here
it waits for an exclusive operation that holds the lock (still import_syncing, still cancellable),
then imports; a restoration is refused at once while another holds it."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envclone.domain.duplication import DuplicationStatus, RestorationRequest
from envclone.domain.operation import Operation, OperationStatus
from envclone.engine import OperationKind, Recorder
from envclone.errors import EnvcloneError
from envclone.services import duplications, storage_service
from envclone.services.context import ServiceContext
from envclone.store import operations as repo
from envclone.store import tables
from tests.unit.duplicate._content import ADMIN, ENV_B, environment, request, rows, seed, status

HOLD_KIND = "test.holdContent"  # an exclusive operation that holds the lock until the test lets go


@pytest.fixture
def release(pair: tuple[ServiceContext, ServiceContext]) -> Iterator[threading.Event]:
    """The target's registry gains an exclusive kind whose run ends when the event is set."""
    released = threading.Event()

    def hold(_ctx: Any, _op: Operation, rec: Recorder) -> None:
        with rec.step("Holding"):
            assert released.wait(60)

    pair[1].engine.registry.register(OperationKind(HOLD_KIND, hold, ("Holding",), exclusive=True))
    yield released
    released.set()


def holder(ctx: ServiceContext) -> tuple[str, str] | None:
    with ctx.db.read() as conn:
        return repo.lock_holder(conn)


def op_id(ctx: ServiceContext, dup_id: str) -> str:
    return duplications.get(ctx, ADMIN, dup_id).operation_id


def test_a_target_waiting_for_its_package_holds_no_lock(
    pair: tuple[ServiceContext, ServiceContext], release: threading.Event
) -> None:
    _source, target = pair
    dup_id = "0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"
    duplications.start_target(target, ADMIN, dup_id, request(target_env=ENV_B))  # no source: it waits
    assert status(target, dup_id) is DuplicationStatus.IMPORT_SYNCING
    assert holder(target) is None
    # An exclusive operation is accepted meanwhile, runs and ends; the target still waits.
    held = target.engine.submit(HOLD_KIND, {}, created_by="admin")
    assert holder(target) == (HOLD_KIND, held.id)
    release.set()
    assert target.engine.wait(held.id, timeout=30).status is OperationStatus.SUCCEEDED
    assert holder(target) is None
    assert status(target, dup_id) is DuplicationStatus.IMPORT_SYNCING
    duplications.cancel(target, ADMIN, dup_id)
    assert target.engine.wait(op_id(target, dup_id), timeout=30).status is OperationStatus.CANCELLED


def test_a_target_whose_package_is_here_waits_for_the_lock_then_imports(
    pair: tuple[ServiceContext, ServiceContext], release: threading.Event
) -> None:
    source, target = pair
    body = request(target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    source.engine.wait(started.operation_id, timeout=60)
    held = target.engine.submit(HOLD_KIND, {}, created_by="admin")
    duplications.start_target(target, ADMIN, started.id, body)  # accepted although the lock is held
    time.sleep(1.0)  # the package is published: the target has pulled it and waits for the lock
    assert status(target, started.id) is DuplicationStatus.IMPORT_SYNCING
    assert holder(target) == (HOLD_KIND, held.id) and rows(target, tables.projects) == []
    release.set()
    done = target.engine.wait(op_id(target, started.id), timeout=60)
    assert done.status is OperationStatus.SUCCEEDED, done.error_message
    assert status(target, started.id) is DuplicationStatus.COMPLETED
    assert [p["name"] for p in rows(target, tables.projects)] == ["Target Project"]
    assert holder(target) is None  # released with the operation's end


def test_a_target_waiting_for_the_lock_is_cancelled_and_gives_it_up(
    pair: tuple[ServiceContext, ServiceContext], release: threading.Event
) -> None:
    source, target = pair
    body = request(target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    source.engine.wait(started.operation_id, timeout=60)
    held = target.engine.submit(HOLD_KIND, {}, created_by="admin")
    duplications.start_target(target, ADMIN, started.id, body)
    time.sleep(0.5)
    duplications.cancel(target, ADMIN, started.id)
    assert target.engine.wait(op_id(target, started.id), timeout=30).status is OperationStatus.CANCELLED
    assert holder(target) == (HOLD_KIND, held.id) and rows(target, tables.projects) == []


def test_a_target_that_never_gets_the_lock_fails_with_the_holder_named(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    source, target = environment(tmp_path / "a"), environment(tmp_path / "b", duplication_sync_timeout_seconds=0.5)
    for ctx in (source, target):
        storage_service.update(ctx, ADMIN, {"type": "file_system", "location": str(shared)})
    seed(source)
    released = threading.Event()

    def hold(_ctx: Any, _op: Operation, rec: Recorder) -> None:
        with rec.step("Holding"):
            assert released.wait(60)

    target.engine.registry.register(OperationKind(HOLD_KIND, hold, ("Holding",), exclusive=True))
    try:
        body = request(target_env=ENV_B)
        started = duplications.start(source, ADMIN, body)
        source.engine.wait(started.operation_id, timeout=60)
        held = target.engine.submit(HOLD_KIND, {}, created_by="admin")
        duplications.start_target(target, ADMIN, started.id, body)
        failed = target.engine.wait(op_id(target, started.id), timeout=30)
        assert failed.status is OperationStatus.FAILED and failed.error_code == "conflict"
        assert held.id in (failed.error_message or "")
        assert status(target, started.id) is DuplicationStatus.IMPORT_FAILED
        assert rows(target, tables.projects) == []
    finally:
        released.set()


def test_a_restoration_is_refused_at_once_while_another_operation_holds_the_lock(
    pair: tuple[ServiceContext, ServiceContext], release: threading.Event
) -> None:
    source, target = pair
    env = request(target_env=ENV_B)
    started = duplications.start(source, ADMIN, env)
    source.engine.wait(started.operation_id, timeout=60)
    data = b"".join(duplications.package(source, ADMIN, started.id).chunks)
    metadata = RestorationRequest.model_validate(
        {"target": {"environment": {"id": ENV_B, "name": "B"}, "project": {"name": "Restored"}}}
    )
    held = target.engine.submit(HOLD_KIND, {}, created_by="admin")
    with pytest.raises(EnvcloneError) as caught:
        duplications.restore(target, ADMIN, io.BytesIO(data), metadata)
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    assert held.id in caught.value.message
    release.set()
    target.engine.wait(held.id, timeout=30)
    restored = duplications.restore(target, ADMIN, io.BytesIO(data), metadata)
    done = target.engine.wait(restored.operation_id, timeout=60)
    assert done.status is OperationStatus.SUCCEEDED, done.error_message
    assert [p["name"] for p in rows(target, tables.projects)] == ["Restored"]
