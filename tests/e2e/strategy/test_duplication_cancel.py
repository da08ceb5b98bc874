"""Cancelling a project duplication in the states the document lists, on two real servers sharing a
storage folder: ``exporting`` (same environment, with the document's PUT {id}), a cross-environment
source before ``exported`` (the SDK's PUT {id}/status), which cancels its target side too, and
``import_syncing`` (a target waiting for its package), whose cancel leaves the source to export; a
cancelled import leaves no project; the error in every other state (exported, completed, cancelled,
import_failed).

A project of a few thousand objects with incompressible definitions keeps its export running for
the moment a cancel takes; a test reports plainly if the export won that race."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import tag
from tests.e2e.client import ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import (
    LIBRARY,
    Library,
    Project,
    configure_storage,
    make_project,
    project_named,
    sample,
    start_library,
    wait,
)
from tests.e2e.strategy.library import login, session, strategy_error

BIG = 3000  # objects: an export of about half a second, where a cancel takes milliseconds


@pytest.fixture(scope="module")
def lib(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"))


def cancel(client: httpx.Client, dup_id: str, *, sdk_path: bool, status: str = "cancelled") -> httpx.Response:
    if sdk_path:
        return client.put(f"/projectDuplications/{dup_id}/status", json={"status": status})
    return client.put(f"/projectDuplications/{dup_id}", json={"status": status})


def status_of(client: httpx.Client, dup_id: str) -> str:
    status: str = ok(client.get(f"/projectDuplications/{dup_id}"))["status"]
    return status


def big_project(admin: httpx.Client, count: int = BIG) -> Project:
    """A project whose export takes long enough to be cancelled while it runs: many objects
    with incompressible definitions."""
    project = make_project(admin)
    items = [
        {
            "type": 3,
            "name": f"Report {n}",
            "folder_path": "/Public Objects",
            "definition": {"sql": os.urandom(600).hex()},
        }
        for n in range(count)
    ]
    ok(admin.post(f"/v1/projects/{project.id}/objects/batch", json={"items": items}))
    return project


def test_a_waiting_target_side_is_cancelled_and_makes_nothing(lib: Library) -> None:
    project, name = make_project(lib.src_admin), f"Waiting {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    for sdk_path in (False, True):
        dup_id = uuid.uuid4().hex.upper()
        assert ok(lib.tgt.put(f"/projectDuplications/{dup_id}", json=body), 201)["status"] == "import_syncing"
        response = cancel(lib.tgt, dup_id, sdk_path=sdk_path, status="CANCELLED" if sdk_path else "cancelled")
        assert response.status_code == 204 and not response.content
        assert status_of(lib.tgt, dup_id) in {"cancelling", "cancelled"}
        assert wait(lib.tgt, dup_id)["status"] == "cancelled"
        strategy_error(cancel(lib.tgt, dup_id, sdk_path=sdk_path), 409, "DUPLICATION_NOT_CANCELLABLE")
    assert project_named(lib.tgt_admin, name) is None


def test_a_duplication_is_cancelled_while_it_exports(lib: Library) -> None:
    """Same environment, exporting, with the document's PUT {id}: it ends cancelled, no project."""
    project, name = big_project(lib.src_admin), f"Local {tag()}"
    env = lib.env(lib.source)
    started = ok(lib.src.post("/projectDuplications", json=sample(env, env, project, name)), 201)
    assert cancel(lib.src, started["id"], sdk_path=False).status_code == 204, "the export ended before the cancel"
    assert status_of(lib.src, started["id"]) in {"cancelling", "cancelled"}
    assert wait(lib.src, started["id"])["status"] == "cancelled"
    assert project_named(lib.src_admin, name) is None
    strategy_error(cancel(lib.src, started["id"], sdk_path=False), 409, "DUPLICATION_NOT_CANCELLABLE")


def test_a_source_cancelled_before_exported_cancels_its_target_side(lib: Library) -> None:
    project, name = big_project(lib.src_admin), f"Crossed {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    source_side = ok(lib.src.post("/projectDuplications", json=body), 201)
    assert source_side["status"] in {"exporting", "export_syncing"}
    assert cancel(lib.src, source_side["id"], sdk_path=True).status_code == 204, "exported before the cancel"
    assert status_of(lib.src, source_side["id"]) == "cancelled"  # a source shows no "cancelling"
    fed = ok(lib.tgt.put(f"/projectDuplications/{source_side['id']}", json=body), 201)
    assert wait(lib.tgt, fed["id"])["status"] == "cancelled"
    assert wait(lib.src, source_side["id"])["status"] == "cancelled"
    assert project_named(lib.tgt_admin, name) is None


def test_a_target_cancelled_leaves_its_source_to_export(lib: Library) -> None:
    project, name = big_project(lib.src_admin), f"Inbound {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    dup_id = ok(lib.src.post("/projectDuplications", json=body), 201)["id"]
    assert ok(lib.tgt.put(f"/projectDuplications/{dup_id}", json=body), 201)["status"] == "import_syncing"
    assert cancel(lib.tgt, dup_id, sdk_path=False).status_code == 204
    assert status_of(lib.tgt, dup_id) in {"cancelling", "cancelled"}
    assert wait(lib.tgt, dup_id)["status"] == "cancelled"
    assert wait(lib.src, dup_id)["status"] == "exported"
    assert project_named(lib.tgt_admin, name) is None
    strategy_error(cancel(lib.src, dup_id, sdk_path=True), 409, "DUPLICATION_NOT_CANCELLABLE")


def test_no_cancel_once_finished_and_no_other_change(lib: Library) -> None:
    project = make_project(lib.src_admin)
    env = lib.env(lib.source)
    done = ok(lib.src.post("/projectDuplications", json=sample(env, env, project, f"Done {tag()}")), 201)["id"]
    assert wait(lib.src, done)["status"] == "completed"
    for sdk_path in (False, True):
        strategy_error(cancel(lib.src, done, sdk_path=sdk_path), 409, "DUPLICATION_NOT_CANCELLABLE")
        strategy_error(cancel(lib.src, done, sdk_path=sdk_path, status="completed"), 400, "INVALID_REQUEST")
    strategy_error(lib.src.put(f"/projectDuplications/{done}/status", json={"status": 1}), 400, "INVALID_REQUEST")
    strategy_error(cancel(lib.src, uuid.uuid4().hex.upper(), sdk_path=True), 404, "ERR004")
    assert status_of(lib.src, done) == "completed"


def test_no_cancel_once_failed(lib: Library, servers: Servers) -> None:
    """A target whose source never publishes fails after the sync timeout (1 s here): import_failed,
    which cannot be cancelled."""
    impatient = servers.start(env={"ENVCLONE_DUPLICATION_SYNC_TIMEOUT_SECONDS": "1"})
    with session(impatient, login(impatient, application_type=None)) as client:
        configure_storage(client, lib.shared)
        body = sample(lib.env(lib.source), impatient.url + LIBRARY, make_project(lib.src_admin), f"Late {tag()}")
        dup_id = uuid.uuid4().hex.upper()
        assert ok(client.put(f"/projectDuplications/{dup_id}", json=body), 201)["status"] == "import_syncing"
        failed = wait(client, dup_id)
        assert failed["status"] == "import_failed" and "publish" in failed["message"], failed
        for sdk_path in (False, True):
            strategy_error(cancel(client, dup_id, sdk_path=sdk_path), 409, "DUPLICATION_NOT_CANCELLABLE")
        assert client.delete(f"/projectDuplications/{dup_id}").status_code == 204
