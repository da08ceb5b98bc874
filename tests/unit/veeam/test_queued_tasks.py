"""Tasks that are still open, in-process: DELETE /api/tasks/{ID} stops a clone, which is never made;
?action=stop stops a run, which writes no file; a name taken while a clone waited fails the clone
with the reason. The engine here runs one operation at a time and a blocking operation of a test
kind goes first, so the task is certainly still open when the next request arrives."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.domain.operation import Operation
from envclone.engine import Engine, OperationKind, Recorder
from envclone.server import build_context, build_registry, create_app
from envclone.services.context import ServiceContext
from envclone.settings import load_settings

PASSWORD = "pw-1234567890"
BLOCKER = "testBlocker"


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def ctx(tmp_path: Path, gate: threading.Event) -> Iterator[ServiceContext]:
    def block(_ctx: Any, _op: Operation, rec: Recorder) -> None:
        with rec.step("Waiting"):
            assert gate.wait(30), "the test never opened the gate"

    registry = build_registry()
    registry.register(OperationKind(BLOCKER, block, ("Waiting",), cancellable=False))
    context, _ = build_context(load_settings(data_dir=tmp_path, admin_password=PASSWORD, scheduler=False), registry)
    context.engine.shutdown()
    context.attach(Engine(context.db, registry, context, runner_id="test", workers=1))
    yield context
    gate.set()
    context.engine.shutdown()


async def _scenario(ctx: ServiceContext, gate: threading.Event) -> None:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=("admin", PASSWORD)) as native:
        repo = (await native.post("/v1/repositories", json={"name": "r", "path": "r"})).json()["uid"]
        body = {"name": "source", "job_type": "Backup", "repository_uid": repo, "folder_name": "f"}
        job = (await native.post("/v1/jobs", json=body)).json()
        session = (await native.post("/api/sessionMngr/?v=latest")).headers["X-RestSvcSessionId"]
    headers = {"X-RestSvcSessionId": session, "Accept": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as em:
        blocker = ctx.engine.submit(BLOCKER, {}, created_by="admin")
        spec = {"BackupJobCloneInfo": {"JobName": "never made", "FolderName": "x", "RepositoryUid": repo}}
        started = await em.post(f"/api/jobs/{job['uid'].rsplit(':', 1)[1]}?action=clone", json=spec)
        assert started.status_code == 202, started.text
        task = started.json()
        assert (await em.delete(task["Href"])).status_code == 204
        assert (await em.get(task["Href"])).json()["State"] == "Running"  # stopping: it has not run yet
        gate.set()
        ctx.engine.wait(blocker.id, timeout=30)
        deadline = time.monotonic() + 30
        while (shown := (await em.get(task["Href"])).json())["State"] != "Finished":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)  # pacing only
        assert shown["Result"]["Success"] is False and "cancel" in shown["Result"]["Message"]
        assert not any(link["Rel"] == "Related" for link in shown["Links"])
        names = [ref["Name"] for ref in (await em.get("/api/jobs")).json()["Refs"]]
        assert names == ["source"]
        # A stopped task has finished: a second DELETE removes its record.
        assert (await em.delete(task["Href"])).status_code == 204
        assert (await em.get(task["Href"])).status_code == 404


def test_a_stopped_task_makes_no_clone(ctx: ServiceContext, gate: threading.Event) -> None:
    asyncio.run(_scenario(ctx, gate))


async def _stop_scenario(ctx: ServiceContext, gate: threading.Event) -> None:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=("admin", PASSWORD)) as native:
        repo = (await native.post("/v1/repositories", json={"name": "r", "path": "r"})).json()["uid"]
        body = {"name": "nightly", "job_type": "Backup", "repository_uid": repo, "folder_name": "nightly"}
        job = (await native.post("/v1/jobs", json=body)).json()
        session = (await native.post("/api/sessionMngr/?v=latest")).headers["X-RestSvcSessionId"]
    headers = {"X-RestSvcSessionId": session, "Accept": "application/json"}
    path = f"/api/jobs/{job['uid'].rsplit(':', 1)[1]}"
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as em:
        blocker = ctx.engine.submit(BLOCKER, {}, created_by="admin")
        started = (await em.post(path, params={"action": "start"})).json()
        stopped = await em.post(path, params={"action": "stop"})
        assert stopped.status_code == 202 and stopped.json()["TaskId"] == started["TaskId"], stopped.text
        gate.set()
        ctx.engine.wait(blocker.id, timeout=30)
        deadline = time.monotonic() + 30
        while (shown := (await em.get(started["Href"])).json())["State"] != "Finished":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)  # pacing only
        assert shown["Result"]["Success"] is False and "cancel" in shown["Result"]["Message"]
        (run,) = (await em.get(f"{path}/backupSessions", params={"format": "Entity"})).json()["BackupJobSessions"]
        assert (run["State"], run["Result"]) == ("Stopped", "Failed")
        assert (await em.post(path, params={"action": "stop"})).status_code == 409  # nothing runs now
    folder = ctx.settings.data_dir / "repositories" / "r" / "nightly"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_stopped_run_writes_no_backup_file(ctx: ServiceContext, gate: threading.Event) -> None:
    asyncio.run(_stop_scenario(ctx, gate))


async def _taken_scenario(ctx: ServiceContext, gate: threading.Event) -> None:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=("admin", PASSWORD)) as native:
        job = (await native.post("/v1/jobs", json={"name": "source", "job_type": "Replica"})).json()
        session = (await native.post("/api/sessionMngr/?v=latest")).headers["X-RestSvcSessionId"]
        headers = {"X-RestSvcSessionId": session, "Accept": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as em:
            blocker = ctx.engine.submit(BLOCKER, {}, created_by="admin")
            spec = {"ReplicaJobCloneInfo": {"JobName": "contested", "VmSuffix": "_r"}}
            task = (await em.post(f"/api/jobs/{job['uid'].rsplit(':', 1)[1]}?action=clone", json=spec)).json()
            assert (await native.post("/v1/jobs", json={"name": "contested", "job_type": "Backup"})).status_code == 201
            gate.set()
            ctx.engine.wait(blocker.id, timeout=30)
            deadline = time.monotonic() + 30
            while (shown := (await em.get(task["Href"])).json())["State"] != "Finished":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)  # pacing only
            assert shown["Result"] == {"Success": False, "Message": "a job named 'contested' already exists"}
            jobs = {ref["Name"]: ref["UID"] for ref in (await em.get("/api/jobs")).json()["Refs"]}
            assert set(jobs) == {"source", "contested"}
            contested = (await em.get(f"/api/jobs/{jobs['contested'].rsplit(':', 1)[1]}?format=Entity")).json()
            assert contested["JobType"] == "Backup"  # the one made meanwhile, untouched


def test_a_name_taken_while_the_clone_waited_fails_it(ctx: ServiceContext, gate: threading.Event) -> None:
    asyncio.run(_taken_scenario(ctx, gate))
