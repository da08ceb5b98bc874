"""Cancelling either side: the source's cancel before ``exported`` also ends the waiting target
cancelled; the target's cancel leaves no project and never touches the source; only the
document's cancellable states may be cancelled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from envclone.domain.duplication import DuplicationStatus
from envclone.errors import EnvcloneError
from envclone.operations.duplicate import run, storage
from envclone.services import duplications
from envclone.services.context import ServiceContext
from envclone.store import tables
from tests.unit.duplicate._content import ADMIN, ENV_B, request, rows, status, wait


@pytest.fixture
def held_push(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The source's sync waits until the test lets it go: it is then export_syncing for sure."""
    release, entered = threading.Event(), threading.Event()
    real = storage.push

    def push(*args: Any, **kwargs: Any) -> int:
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(run.storage, "push", push)
    yield entered, release
    release.set()


def test_cancelling_the_source_before_exported_cancels_the_waiting_target(
    pair: tuple[ServiceContext, ServiceContext], held_push: tuple[threading.Event, threading.Event]
) -> None:
    source, target = pair
    entered, release = held_push
    body = request(target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    duplications.start_target(target, ADMIN, started.id, body)
    assert entered.wait(30)
    assert status(source, started.id) is DuplicationStatus.EXPORT_SYNCING
    assert status(target, started.id) is DuplicationStatus.IMPORT_SYNCING
    duplications.cancel(source, ADMIN, started.id)
    assert status(source, started.id) is DuplicationStatus.CANCELLED  # at once, as the document shows it
    release.set()
    assert wait(target, started.id).status is DuplicationStatus.CANCELLED
    assert wait(source, started.id).status is DuplicationStatus.CANCELLED
    assert rows(target, tables.projects) == []
    with pytest.raises(EnvcloneError) as caught:  # a cancelled duplication cannot be cancelled again
        duplications.cancel(source, ADMIN, started.id)
    assert caught.value.code == "not_cancellable"


def test_cancelling_the_target_leaves_no_project_and_the_source_exports(
    pair: tuple[ServiceContext, ServiceContext],
) -> None:
    source, target = pair
    body = request(target_env=ENV_B)
    dup_id = "F8F1280022A444C5A10B3445B552E33A"
    duplications.start_target(target, ADMIN, dup_id, body)  # waits: the source has not started
    assert status(target, dup_id) is DuplicationStatus.IMPORT_SYNCING
    duplications.cancel(target, ADMIN, dup_id)
    assert status(target, dup_id) in (DuplicationStatus.CANCELLING, DuplicationStatus.CANCELLED)
    assert wait(target, dup_id).status is DuplicationStatus.CANCELLED
    assert rows(target, tables.projects) == []
    started = duplications.start(source, ADMIN, body)
    assert wait(source, started.id).status is DuplicationStatus.EXPORTED


def test_cancelling_the_target_during_its_import_leaves_no_project(
    pair: tuple[ServiceContext, ServiceContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = pair
    body = request(target_env=ENV_B)
    started = duplications.start(source, ADMIN, body)
    assert wait(source, started.id).status is DuplicationStatus.EXPORTED
    pulled, release = threading.Event(), threading.Event()
    real = storage.pull

    def pull(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        pulled.set()
        release.wait(30)
        return result

    monkeypatch.setattr(run.storage, "pull", pull)
    duplications.start_target(target, ADMIN, started.id, body)
    assert pulled.wait(30)
    duplications.cancel(target, ADMIN, started.id)
    release.set()
    assert wait(target, started.id).status is DuplicationStatus.CANCELLED
    assert rows(target, tables.projects) == [] and rows(target, tables.metadata_objects) == []
    assert status(source, started.id) is DuplicationStatus.EXPORTED


def test_a_finished_duplication_cannot_be_cancelled_and_a_running_one_cannot_be_deleted(
    pair: tuple[ServiceContext, ServiceContext],
) -> None:
    _source, target = pair
    dup_id = "0A0A0A0A0A0A0A0A0A0A0A0A0A0A0A0A"
    duplications.start_target(target, ADMIN, dup_id, request(target_env=ENV_B))
    with pytest.raises(EnvcloneError) as caught:
        duplications.delete(target, ADMIN, dup_id)
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    duplications.cancel(target, ADMIN, dup_id)
    wait(target, dup_id)
    with pytest.raises(EnvcloneError) as caught:
        duplications.cancel(target, ADMIN, dup_id)
    assert (caught.value.code, caught.value.status) == ("not_cancellable", 409)
    duplications.delete(target, ADMIN, dup_id)
