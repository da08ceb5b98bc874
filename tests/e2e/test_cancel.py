"""Cancel, ``POST /v1/operations/{id or number}/cancel``, against real servers on SQLite and
PostgreSQL. Before an operation's point of no return (where the one transaction that replaces
content begins) a cancel is accepted and the operation ends cancelled with the environment, or a
clone's target, exactly as it was; past it, or once the operation has ended, the cancel is
refused with 409 ``not_cancellable`` in the native error shape and the operation completes. Never
accepted and then ignored. Also: the number GET takes, and the operations list's total."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from envclone.content.component_tables import COMPONENT_TABLES
from tests.builders import tag
from tests.conftest import ADMIN, BACKENDS, LiveServer, database_url
from tests.e2e.client import DEADLINE, digests, error_of, ok, recorded_digests, run_maintenance, wait_operation
from tests.e2e.conftest import TARGET_PASSWORD, seeded_server

# A file whose content a restore or a clone's target must put back before its transaction: the
# long part before the point of no return, where a cancel is expected to land.
BIG = 64 * 1024 * 1024
CONTENT_TABLES = sorted({part.table.name for parts in COMPONENT_TABLES.values() for part in parts})


@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    big: str  # an inbox file of BIG bytes, in the backup
    backup: str


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A seeded server (size small) with a big inbox file, and an Environment Backup holding it."""
    keep_all = {"ENVCLONE_BACKUP_RETENTION": "1000"}
    with (
        seeded_server(request, tmp_path_factory, "cancel", request.param, **keep_all) as server,
        server.client() as http,
    ):
        big = f"big-{tag()}.bin"
        ok(http.put(f"/v1/files/inbox/{big}", content=os.urandom(BIG)), 201)
        yield Env(server, http, big, run_maintenance(http, server)["environmentBackup"])


# --- probes of a server's database ------------------------------------------------------------------
def point_of_no_return(server: LiveServer, op_id: str) -> Any:
    """When the operation passed its point of no return, as recorded (None before)."""
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT point_of_no_return FROM operations WHERE id = :id")
            return conn.execute(query, {"id": op_id}).scalar_one()
    finally:
        engine.dispose()


def wait_point_of_no_return(http: httpx.Client, server: LiveServer, op_id: str) -> None:
    """Until the running operation has passed its point of no return (bounded)."""
    end = time.monotonic() + DEADLINE
    while point_of_no_return(server, op_id) is None:
        op = ok(http.get(f"/v1/operations/{op_id}"))
        assert op["status"] in ("queued", "running"), f"it ended before its point of no return: {op}"
        assert time.monotonic() < end, f"operation {op_id} never reached its point of no return"
        time.sleep(0.01)  # pacing only


@contextmanager
def held_in_its_transaction(server: LiveServer) -> Iterator[None]:
    """On PostgreSQL, hold every content table in SHARE mode: reads go on, so an apply reaches its
    point of no return, but its first write waits inside its transaction until the block ends, so
    that a cancel meets it there whatever the machine's speed. SQLite has no such lock (its write
    lock would stop the apply before its point), so there the cancel meets the transaction by
    timing: the test waits for the point, which is recorded as the transaction begins."""
    if server.database_url.startswith("sqlite"):
        yield
        return
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(f"LOCK TABLE {', '.join(CONTENT_TABLES)} IN SHARE MODE")
            yield
    finally:
        engine.dispose()


def blob_files(server: LiveServer) -> set[str]:
    return {p.name for p in Path(server.data_dir, "blobs", "files").glob("*") if p.is_file()}


def in_inbox(http: httpx.Client, name: str) -> int:
    total: int = ok(http.get("/v1/files/inbox", params={"prefix": name}))["total"]
    return total


def refusal(response: httpx.Response) -> dict[str, Any]:
    """A refused cancel: 409 in the native error shape, code not_cancellable; returns the error."""
    assert error_of(response) == (409, "not_cancellable"), response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


# --- restore ----------------------------------------------------------------------------------------
def test_a_cancel_before_the_replace_stops_a_restore_and_changes_nothing(env: Env) -> None:
    http = env.http
    ok(http.delete(f"/v1/files/inbox/{env.big}"), 204)  # so that the restore must put it back
    ok(http.post("/v1/projects", json={"name": f"after-{tag()}"}), 201)
    before, blobs = digests(http), blob_files(env.server)

    op = ok(http.post("/v1/restore", json={"backup_name": env.backup, "stored_snapshots_and_files": True}), 202)
    accepted = ok(http.post(f"/v1/operations/{op['number']}/cancel"), 202)  # by number, as GET takes it
    assert accepted["id"] == op["id"] and accepted["status"] in ("queued", "running"), accepted

    final = wait_operation(http, op["id"])
    assert final["status"] == "cancelled", final
    assert final["error"]["code"] == "cancelled", final
    assert digests(http) == before
    assert in_inbox(http, env.big) == 0
    assert blob_files(env.server) == blobs, "what the cancelled restore had put stayed behind"
    # Ended, so refused now, and the content lock is free again: the same restore runs to its end.
    assert "already ended (cancelled)" in refusal(http.post(f"/v1/operations/{op['id']}/cancel"))["message"]
    again = ok(http.post("/v1/restore", json={"backup_name": env.backup, "stored_snapshots_and_files": True}), 202)
    assert wait_operation(http, again["id"])["status"] == "succeeded"
    assert in_inbox(http, env.big) == 1


def test_a_cancel_during_the_replace_is_refused_and_the_restore_completes(env: Env) -> None:
    http, server = env.http, env.server
    ok(http.post("/v1/projects", json={"name": f"after-{tag()}"}), 201)  # something to replace
    recorded = recorded_digests(http, env.backup)

    with held_in_its_transaction(server):
        op = ok(http.post("/v1/restore", json={"backup_name": env.backup}), 202)
        wait_point_of_no_return(http, server, op["id"])
        refused = http.post(f"/v1/operations/{op['id']}/cancel")
        by_number = http.post(f"/v1/operations/{op['number']}/cancel")
    error = refusal(refused)
    assert "point of no return" in error["message"] and op["id"] in error["message"], error
    assert error["details"]["point_of_no_return"], error
    assert refusal(by_number)["message"] == error["message"]

    final = wait_operation(http, op["id"])
    assert final["status"] == "succeeded", final
    after = digests(http)
    assert {c: after[c] for c in ("artifacts", "configuration", "jobs")} == {
        c: recorded[c] for c in ("artifacts", "configuration", "jobs")
    }


# --- by number, ended, listed -----------------------------------------------------------------------
def test_cancel_takes_the_number_get_takes(env: Env) -> None:
    http = env.http
    items = ok(http.get("/v1/operations", params={"kind": "dailyMaintenance", "limit": 1}))["items"]
    ended = items[0]
    assert ended["status"] == "succeeded", ended
    for ref in (ended["id"], str(ended["number"])):
        error = refusal(http.post(f"/v1/operations/{ref}/cancel"))
        assert error["message"] == f"operation {ended['id']} has already ended (succeeded)", error
    assert error_of(http.post("/v1/operations/987654321/cancel")) == (404, "not_found")
    assert error_of(http.post(f"/v1/operations/{'0' * 32}/cancel")) == (404, "not_found")


def test_the_operations_list_has_a_total(env: Env) -> None:
    http = env.http
    everything = ok(http.get("/v1/operations", params={"limit": 1000}))
    assert everything["total"] == len(everything["items"]), everything["total"]
    # Of one kind, since the scheduler may start a verification between two requests.
    run_maintenance(http, env.server)
    kind = "dailyMaintenance"
    runs = [op for op in ok(http.get("/v1/operations", params={"limit": 1000}))["items"] if op["kind"] == kind]
    assert len(runs) >= 2, runs
    one = ok(http.get("/v1/operations", params={"kind": kind, "limit": 1, "offset": 1}))
    assert (one["total"], one["limit"], one["offset"]) == (len(runs), 1, 1), one
    assert [op["id"] for op in one["items"]] == [runs[1]["id"]]
    assert ok(http.get("/v1/operations", params={"kind": kind, "status": "succeeded"}))["total"] == len(runs)
    none = ok(http.get("/v1/operations", params={"kind": "noSuchKind"}))
    assert (none["total"], none["items"]) == (0, [])


# --- clone ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    source: LiveServer
    target: LiveServer
    src: httpx.Client
    tgt: httpx.Client
    big: str  # an inbox file of BIG bytes on the source, in its Artifact Snapshot


@pytest.fixture(scope="module", params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A seeded source with a big inbox file and an Artifact Snapshot holding it, and a target."""
    tmp = tmp_path_factory.mktemp(f"cancel-target-{request.param}")
    target = LiveServer(
        tmp / "data", database_url(request.param, tmp, request), extra_env={"ENVCLONE_ADMIN_PASSWORD": TARGET_PASSWORD}
    )
    with seeded_server(request, tmp_path_factory, "cancel-source", request.param) as source, source.client() as src:
        target.start()
        try:
            with target.client(ADMIN, TARGET_PASSWORD) as tgt:
                big = f"big-{tag()}.bin"
                ok(src.put(f"/v1/files/inbox/{big}", content=os.urandom(BIG)), 201)
                run_maintenance(src, source)
                yield Pair(source, target, src, tgt, big)
        finally:
            target.stop()


def start_clone(pair: Pair) -> dict[str, Any]:
    body = {
        "target_url": pair.target.url,
        "target_user": ADMIN,
        "target_password": TARGET_PASSWORD,
        "options": {"storedSnapshotsAndFiles": True},
    }
    op: dict[str, Any] = ok(pair.src.post("/v1/clone", json=body), 202)
    return op


def applies(tgt: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(tgt.get("/v1/operations", params={"kind": "applyClone", "limit": 1000}))["items"]
    return items


def wait_target_apply(pair: Pair, clone_id: str, known: set[str]) -> dict[str, Any]:
    """The target's apply of this clone, once it runs (bounded)."""
    end = time.monotonic() + DEADLINE
    while True:
        new = [op for op in applies(pair.tgt) if op["id"] not in known]
        if new and new[0]["status"] == "running":
            return new[0]
        clone = ok(pair.src.get(f"/v1/operations/{clone_id}"))
        # Queued until a thread claims it (a first read may come first), then running until its end.
        assert clone["status"] in ("queued", "running"), f"the clone ended before its target applied: {clone}"
        assert time.monotonic() < end, "the target never began to apply the clone"
        time.sleep(0.01)  # pacing only


def test_a_cancel_while_the_target_puts_files_stops_the_clone_and_leaves_the_target_as_it_was(pair: Pair) -> None:
    if in_inbox(pair.tgt, pair.big):  # from an earlier clone: the target must put it again
        ok(pair.tgt.delete(f"/v1/files/inbox/{pair.big}"), 204)
    known, before = {op["id"] for op in applies(pair.tgt)}, digests(pair.tgt)
    clone = start_clone(pair)
    apply = wait_target_apply(pair, clone["id"], known)

    accepted = ok(pair.src.post(f"/v1/operations/{clone['number']}/cancel"), 202)
    assert accepted["status"] == "running", accepted

    final = wait_operation(pair.src, clone["id"])
    assert final["status"] == "cancelled", final
    assert wait_operation(pair.tgt, apply["id"])["status"] == "cancelled"
    assert digests(pair.tgt) == before
    assert in_inbox(pair.tgt, pair.big) == 0


def test_a_cancel_once_the_target_replaces_is_refused_and_the_clone_completes(pair: Pair) -> None:
    known = {op["id"] for op in applies(pair.tgt)}
    ok(pair.tgt.post("/v1/projects", json={"name": f"target-only-{tag()}"}), 201)  # something to replace
    with held_in_its_transaction(pair.target):
        clone = start_clone(pair)
        apply = wait_target_apply(pair, clone["id"], known)
        wait_point_of_no_return(pair.tgt, pair.target, apply["id"])
        refused = pair.src.post(f"/v1/operations/{clone['id']}/cancel")
        on_target = pair.tgt.post(f"/v1/operations/{apply['id']}/cancel")
    error = refusal(refused)
    assert error["message"].startswith("the clone can no longer be cancelled: on the target, "), error
    assert "point of no return" in error["message"], error
    assert "point of no return" in refusal(on_target)["message"]

    final = wait_operation(pair.src, clone["id"])
    assert final["status"] == "succeeded", final
    assert wait_operation(pair.tgt, apply["id"])["status"] == "succeeded"
    # Once the target has its new content, the clone itself refuses a cancel without asking it.
    assert "already ended (succeeded)" in refusal(pair.src.post(f"/v1/operations/{clone['id']}/cancel"))["message"]
    theirs, mine = digests(pair.src), digests(pair.tgt)
    assert {c: mine[c] for c in ("artifacts", "files")} == {c: theirs[c] for c in ("artifacts", "files")}


def test_the_transfer_cancel_refuses_a_missing_or_wrong_receipt_and_changes_nothing(env: Env) -> None:
    """``POST /v1/transfer/apply/{id}/cancel`` is authorised by the apply's receipt alone (the
    source may no longer hold a login on the target): without one, or with one that is not this
    apply's, it is refused in the native error shape, and nothing is cancelled or changed."""
    applies = "/v1/operations?kind=applyClone"
    before = (digests(env.http), ok(env.http.get(applies))["total"], ok(env.http.get("/v1/operations"))["total"])
    ops = ok(env.http.get("/v1/operations", params={"limit": 1}))["items"]
    some_op = ops[0]["id"] if ops else "0" * 32  # a real operation, not an apply: a receipt still decides
    with env.server.anonymous() as anon:
        for op_id in (some_op, "0" * 32):
            missing = anon.post(f"/v1/transfer/apply/{op_id}/cancel")
            assert error_of(missing) == (401, "not_authenticated"), missing.text
            assert "receipt" in missing.json()["error"]["message"]
            wrong = anon.post(f"/v1/transfer/apply/{op_id}/cancel", headers={"X-Envclone-Receipt": "not-a-receipt"})
            assert error_of(wrong) == (401, "invalid_credentials"), wrong.text
            assert "not-a-receipt" not in wrong.text
    after = (digests(env.http), ok(env.http.get(applies))["total"], ok(env.http.get("/v1/operations"))["total"])
    assert after == before
    if ops:
        assert ok(env.http.get(f"/v1/operations/{some_op}"))["status"] == ops[0]["status"]
