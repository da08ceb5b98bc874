"""Scale-out end to end: two API processes (``envclone serve --workers 0``) and two worker
processes (``envclone worker``) on loopback, sharing a fresh PostgreSQL database and an S3 server
as the blob store. Clones, restores, project duplications, job clones and job runs are started
through both API processes and read through the other one; a worker is killed (SIGKILL) in the
middle of a clone, which ends failed with the reason within the configured stale time and leaves
its target as it was; another is killed in the middle of a verification, which the remaining
worker takes over and finishes. Every operation's final status and every digest are checked."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.domain.clone import KIND as CLONE_KIND
from envclone.engine import faults
from tests.builders import tag
from tests.conftest import ADMIN, LiveServer, PgDatabases
from tests.e2e.client import digests, ok, wait_operation
from tests.e2e.conftest import TARGET_PASSWORD
from tests.e2e.scale_out.cluster import STALE_SECONDS, Cluster, start_s3, stop
from tests.e2e.strategy.duplication import check_copied, make_project, sample, seed_configuration, wait
from tests.e2e.strategy.library import login, session
from tests.e2e.veeam.em import make_job, make_repository

pytestmark = pytest.mark.postgres
# What a native clone without options carries (users stay: migrateUsers is off).
CARRIED = ("artifacts", "configuration", "jobs", "settings", "dataManagement", "jobConsole", "applicationAudit")
LIBRARY = "/MicroStrategyLibrary"

# Bounds for operations that run to their end: a loaded 2-core machine ran a job for 74 s.
SLOW = 180.0


@pytest.fixture
def cluster(pg_databases: PgDatabases, tmp_path: Path) -> Iterator[Cluster]:
    s3, moto = start_s3(tmp_path / "s3.log")
    made = Cluster(tmp_path, pg_databases.create(), s3)
    made.s3_process = moto  # type: ignore[attr-defined]
    try:
        made.seed()
        made.start_api()  # the first migrates and bootstraps; the others find it done
        made.start_api()
        made.start_worker()
        made.start_worker()
        yield made
    except BaseException:
        print(made.logs())
        raise
    finally:
        made.stop()
        stop(moto)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[LiveServer]:
    """A clone's target: an ordinary embedded server (SQLite, operations in its process)."""
    server = LiveServer(
        tmp_path / "target",
        f"sqlite:///{tmp_path / 'target.db'}",
        extra_env={"ENVCLONE_ADMIN_PASSWORD": TARGET_PASSWORD},
    )
    server.log_path = tmp_path / "target.log"
    yield server.start()
    server.stop()


def started(response: httpx.Response) -> str:
    op: dict[str, Any] = ok(response, 202)
    assert op["status"] in ("queued", "running"), op
    return str(op["id"])


def wait_step_started(http: httpx.Client, op_id: str, deadline: float = 10.0) -> dict[str, Any]:
    """GET the operation until one of its steps is under way (bounded); returns it."""
    end = time.monotonic() + deadline
    while True:
        op: dict[str, Any] = ok(http.get(f"/v1/operations/{op_id}"))
        if any(step["result"] == "inProgress" for step in op["steps"]):
            return op
        assert time.monotonic() < end, f"no step of {op_id} under way after {deadline}s: {op}"
        time.sleep(0.05)


def clone_body(target: LiveServer) -> dict[str, Any]:
    return {"target_url": target.url, "target_user": ADMIN, "target_password": TARGET_PASSWORD}


def test_two_apis_and_two_workers_survive_a_killed_worker(cluster: Cluster, target: LiveServer) -> None:
    begun = time.monotonic()
    api1, api2 = cluster.apis
    one, two = api1.client(), api2.client()
    expected: dict[str, str] = {}  # operation id -> its final status

    # Daily maintenance through one API, read through the other: a backup to restore from (the job
    # made first is in it, so the restore keeps it).
    repository = make_repository(one)
    job = make_job(two, "Backup", repository)
    op = started(one.post("/v1/maintenance/run"))
    assert wait_operation(two, op, deadline=SLOW)["status"] == "succeeded"
    expected[op] = "succeeded"
    backup = next(b for b in ok(two.get("/v1/backups"))["items"] if b["kind"] == "environment_backup")
    recorded = backup["digests"]

    # A restore through API 2 while a verification of the backup (it only reads) runs beside it.
    ok(one.post("/v1/projects", json={"name": f"after-{tag()}"}), 201)
    assert digests(two)["artifacts"] != recorded["artifacts"]
    restore = started(two.post("/v1/restore", json={"backup_name": backup["name"], "stored_snapshots_and_files": True}))
    check = started(one.post(f"/v1/backups/{backup['name']}/verify"))
    restored = wait_operation(one, restore, deadline=SLOW)
    assert restored["status"] == "succeeded", (restored["error"], restored["steps"])
    expected[restore] = "succeeded"
    after = digests(one)
    assert {c: after[c] for c in recorded if c != "users"} == {c: recorded[c] for c in recorded if c != "users"}
    checked = wait_operation(two, check, deadline=SLOW)
    assert checked["status"] == "succeeded" and checked["result"]["damaged"] == [], checked
    expected[check] = "succeeded"

    # Two job clones at once (not exclusive), one through each API, each run by a worker.
    clones = [
        started(client.post(f"/v1/jobs/{job['uid']}/clone", json=body))
        for client, body in (
            (one, {"name": f"copy one {tag()}", "folder_name": "one", "repository_uid": repository}),
            (two, {"name": f"copy two {tag()}", "folder_name": "two", "repository_uid": repository}),
        )
    ]
    for op in clones:
        done = wait_operation(two, op, deadline=SLOW)
        assert done["status"] == "succeeded", done
        expected[op] = "succeeded"

    # A job run through API 1; its backup verified through API 2.
    run = started(one.post(f"/v1/jobs/{job['uid']}/run"))
    ran = wait_operation(two, run, deadline=SLOW)
    assert ran["status"] == "succeeded" and ran["result"]["fileName"].endswith("_Environment_Backup.zip"), ran
    expected[run] = "succeeded"

    # A project duplication within the environment: started in a Strategy session on API 1,
    # followed in a session on API 2 (sessions live in the database, not in one process).
    seed_configuration(one)
    project, name = make_project(two), f"Copy {tag()}"
    env = api1.url + LIBRARY
    body = sample(env, env, project, name)
    with (
        session(api1, login(api1, application_type=None)) as s1,
        session(api2, login(api2, application_type=None)) as s2,
    ):
        dup = ok(s1.post("/projectDuplications", json=body, headers={"Prefer": "respond-async"}), 201)
        assert wait(s2, dup["id"])["status"].lower() == "completed"
    check_copied(two, two, project, name)

    # A clone through API 2 to a target; the target's content then matches the source's (as of the
    # snapshot the clone sends: a new one, taken by daily maintenance through API 1 first).
    op = started(one.post("/v1/maintenance/run"))
    assert wait_operation(two, op, deadline=SLOW)["status"] == "succeeded"
    expected[op] = "succeeded"
    op = started(two.post("/v1/clone", json=clone_body(target)))
    assert wait_operation(one, op, deadline=SLOW)["status"] == "succeeded"
    expected[op] = "succeeded"
    with target.client(password=TARGET_PASSWORD) as tgt:
        theirs, mine = digests(tgt), digests(one)
        assert {c: theirs[c] for c in CARRIED} == {c: mine[c] for c in CARRIED}
        before_kill = theirs

    # A worker killed in the middle of a clone (its target paused, so the clone is mid-way): the
    # clone ends failed with the reason within the stale time, and the target is as it was.
    assert target.process is not None
    os.kill(target.process.pid, signal.SIGSTOP)
    try:
        op = started(one.post("/v1/clone", json=clone_body(target)))
        victim = cluster.wait_running(op)
        # The worker's progress shows through the other API process: a step under way.
        assert wait_step_started(two, op)["status"] == "running"
        victim.kill()
        victim.wait(10)
        killed_at = time.monotonic()
    finally:
        os.kill(target.process.pid, signal.SIGCONT)
    failed = wait_operation(two, op, deadline=30)
    assert time.monotonic() - killed_at < STALE_SECONDS + 10, "the take-over took longer than its bound"
    assert failed["status"] == "failed" and failed["error"]["code"] == "interrupted", failed
    assert "no heartbeat" in failed["error"]["message"], failed
    expected[op] = "failed"
    with target.client(password=TARGET_PASSWORD) as tgt:
        assert digests(tgt) == before_kill
    cluster.start_worker()  # as systemd or the orchestrator would

    # A worker killed in the middle of a verification (the object store paused under it): the
    # other worker takes it over and runs it to its end.
    moto = cluster.s3_process  # type: ignore[attr-defined]
    os.kill(moto.pid, signal.SIGSTOP)
    try:
        op = started(two.post(f"/v1/backups/{backup['name']}/verify"))
        victim = cluster.wait_running(op)
        victim.kill()
        victim.wait(10)
    finally:
        os.kill(moto.pid, signal.SIGCONT)
    verified = wait_operation(one, op, deadline=60)
    assert verified["status"] == "succeeded", verified
    assert verified["result"]["damaged"] == [], verified
    _status, runner = cluster.runner_of(op)
    assert runner is not None and str(victim.pid) not in runner.split(":")
    expected[op] = "succeeded"

    # Every operation ended as expected, whichever API process is asked; none is left open.
    for client in (one, two):
        listed = {o["id"]: o["status"] for o in ok(client.get("/v1/operations", params={"limit": 1000}))["items"]}
        assert not [i for i, s in listed.items() if s in ("queued", "running")], listed
        assert {i: listed[i] for i in expected} == expected

    # A cancel through one API reaches the worker running the operation (a restore, held before its
    # point of no return by the paused object store): it stops and changes nothing.
    before_cancel = digests(two)
    os.kill(moto.pid, signal.SIGSTOP)
    try:
        op = started(one.post("/v1/restore", json={"backup_name": backup["name"], "stored_snapshots_and_files": True}))
        cluster.wait_running(op)
        assert ok(two.post(f"/v1/operations/{op}/cancel"), 202)["id"] == op
    finally:
        os.kill(moto.pid, signal.SIGCONT)
    stopped = wait_operation(one, op, deadline=SLOW)
    assert stopped["status"] == "cancelled" and stopped["error"]["code"] == "cancelled", stopped
    expected[op] = "cancelled"
    assert digests(one) == before_cancel
    for client in (one, two):
        listed = {o["id"]: o["status"] for o in ok(client.get("/v1/operations", params={"limit": 1000}))["items"]}
        assert {i: listed[i] for i in expected} == expected
    one.close()
    two.close()
    assert time.monotonic() - begun < 110, "the scenario is meant to stay under two minutes"


@pytest.fixture
def one_api(pg_databases: PgDatabases, tmp_path: Path) -> Iterator[Cluster]:
    """An API process and no worker yet: the test starts its workers itself."""
    s3, moto = start_s3(tmp_path / "s3.log")
    made = Cluster(tmp_path, pg_databases.create(), s3)
    try:
        made.seed()
        made.start_api()
        yield made
    except BaseException:
        print(made.logs())
        raise
    finally:
        made.stop()
        stop(moto)


def test_a_clone_whose_worker_dies_while_its_target_applies_is_taken_over_and_completes(
    one_api: Cluster, target: LiveServer
) -> None:
    """The worker running a clone dies (SIGKILL, at the fault point just after the target accepted
    the apply and the receipt was sealed): the clone's work goes on in the target, so it is not
    failed but reattached (OperationKind.reattach) by another worker, which opens the sealed
    receipt, follows the target's apply to its end and completes the clone."""
    cluster = one_api
    http = cluster.apis[0].client()
    doomed = cluster.start_worker(extra_env={"ENVCLONE_FAULT": f"{faults.APPLYING}:{CLONE_KIND}"})
    op = started(http.post("/v1/maintenance/run"))  # a snapshot for the clone to send
    assert wait_operation(http, op, deadline=SLOW)["status"] == "succeeded"
    op = started(http.post("/v1/clone", json=clone_body(target)))
    assert doomed.wait(60) == -signal.SIGKILL  # at the fault point: the target has its apply
    status, runner = cluster.runner_of(op)
    assert status == "running" and runner is not None and str(doomed.pid) in runner.split(":")
    survivor = cluster.start_worker()
    done = wait_operation(http, op, deadline=60)
    assert done["status"] == "succeeded", (done["error"], done["steps"])
    assert done["result"].get("targetApply"), done["result"]  # the apply the first worker asked for
    _status, runner = cluster.runner_of(op)
    assert runner is not None and str(survivor.pid) in runner.split(":")
    with target.client(password=TARGET_PASSWORD) as tgt:
        theirs, mine = digests(tgt), digests(http)
        assert {c: theirs[c] for c in CARRIED} == {c: mine[c] for c in CARRIED}
    http.close()
