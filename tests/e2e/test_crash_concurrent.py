"""Two content-replacing operations asked for at the same moment, on SQLite and PostgreSQL: two
restores (one through the native API, one through EPM's), and a restore racing a clone's apply
into the same environment. Each request either starts or gets a Conflict in its dialect's shape;
never do two replace at once; the environment ends exactly as the last one that ran left it."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from envclone.domain.clone import APPLY_KIND
from tests.builders import COMPONENTS, make_environment, tag
from tests.conftest import ADMIN, BACKENDS, database_url
from tests.e2e.client import RESTORE, digests, epm_error, ok, recorded_digests, run_maintenance
from tests.e2e.conftest import TARGET_PASSWORD
from tests.e2e.crash import Node, newest, nothing_open, wait_ended

ROUNDS = 3
EVERY = {"users": True, "stored_snapshots_and_files": True}
EPM_EVERY = {"usersAndPreDefinedRoles": True, "storedSnapshotsAndFiles": True}


@dataclass
class Env:
    node: Node
    backups: list[str]
    recorded: dict[str, dict[str, str]]


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """An environment with two backups of different content (its admin's password is the one a
    clone's source is given, so a restore of either keeps it)."""
    tmp = tmp_path_factory.mktemp(f"crash-concurrent-{request.param}")
    node = Node(tmp / "data", database_url(request.param, tmp, request), TARGET_PASSWORD).start()
    backups = []
    with node.client() as http:
        for _ in range(2):
            make_environment(http)
            ok(http.patch("/v1/settings", json={"theme": f"t-{tag()}"}))
            backups.append(run_maintenance(http, node.server)["environmentBackup"])  # type: ignore[arg-type]
        recorded = {b: recorded_digests(http, b) for b in backups}
    assert all(recorded[backups[0]][c] != recorded[backups[1]][c] for c in COMPONENTS)
    yield Env(node, backups, recorded)
    node.stop()


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """The calls made in threads released together, so that their requests meet on the server."""
    gate = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        gate.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers), "a request never returned"
    return [a for a in answers if a is not None]


def native_started(response: httpx.Response) -> str | None:
    """The operation a native request started, or None for a Conflict in the native shape."""
    if response.status_code == 409:
        assert response.json()["error"]["code"] == "conflict", response.text
        assert "try again" in response.json()["error"]["message"], response.text
        return None
    return str(ok(response, 202)["id"])


def epm_started(response: httpx.Response) -> str | None:
    """The job an EPM restore started, or None for a Conflict in EPM's shape (status 9)."""
    if response.status_code == 409:
        epm_error(response, 409, 9)
        return None
    return str(ok(response)["links"][0]["href"].rsplit("/", 1)[1])


def never_overlapped(ops: list[dict[str, Any]]) -> None:
    spans = sorted((dt.datetime.fromisoformat(o["started"]), dt.datetime.fromisoformat(o["ended"])) for o in ops)
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        assert first_end <= second_start, f"two content-replacing operations ran at once: {spans}"


def test_two_restores_at_once(env: Env) -> None:
    a, b = env.backups
    conflicts = 0
    with env.node.client() as http:
        for _ in range(ROUNDS):
            native, epm = at_once(
                lambda: http.post("/v1/restore", json={"backup_name": a, **EVERY}),
                lambda: http.post(RESTORE, json={"backupName": b, "parameters": EPM_EVERY}),
            )
            ran = {name: op for name, op in ((a, native_started(native)), (b, epm_started(epm))) if op is not None}
            assert ran, "both restores were refused: nothing was running"
            conflicts += 2 - len(ran)
            ended = {name: wait_ended(http, op) for name, op in ran.items()}
            assert all(op["status"] == "succeeded" for op in ended.values()), ended
            never_overlapped(list(ended.values()))
            last = max(ended, key=lambda name: ended[name]["ended"])
            assert digests(http) == env.recorded[last], f"the content is not that of {last}, the last restore"
            nothing_open(http)
    assert conflicts > 0, "the restores never met: the test showed nothing about two at once"


def test_a_restore_and_a_clone_apply_at_once(env: Env, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A clone into the environment asked at the moment a restore is: one of them is refused (the
    clone fails saying the target is busy), or they run one after the other."""
    tmp = tmp_path_factory.mktemp("crash-concurrent-source")
    source = Node(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}").start()
    target = env.node
    try:
        with source.client() as src, target.client() as tgt:
            make_environment(src)
            ok(src.patch("/v1/settings", json={"theme": f"t-{tag()}"}))
            body = {"target_url": target.url, "target_user": ADMIN, "target_password": TARGET_PASSWORD}
            body["options"] = {"storedSnapshotsAndFiles": True}
            wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])  # the chunks are there already
            cloned = digests(tgt)
            outcomes = set()
            for _ in range(ROUNDS):
                restore, clone = at_once(
                    lambda: tgt.post("/v1/restore", json={"backup_name": env.backups[0], **EVERY}),
                    lambda: src.post("/v1/clone", json=body),
                )
                restore_id, clone_op = native_started(restore), wait_ended(src, ok(clone, 202)["id"])
                restored = wait_ended(tgt, restore_id) if restore_id else None
                applied = newest(tgt, APPLY_KIND)
                if clone_op["status"] == "failed":
                    assert clone_op["error"]["code"] == "conflict", clone_op["error"]
                    assert "busy" in clone_op["error"]["message"], clone_op["error"]
                    assert restored is not None and restored["status"] == "succeeded", restored
                    outcomes.add("clone refused")
                else:
                    assert clone_op["status"] == "succeeded", clone_op
                    outcomes.add("restore refused" if restored is None else "one after the other")
                ran = [op for op in (restored, applied) if op is not None and op["status"] == "succeeded"]
                never_overlapped(ran)
                last = max(ran, key=lambda op: op["ended"])
                expected = env.recorded[env.backups[0]] if last is restored else cloned
                after = digests(tgt)
                carried = [c for c in COMPONENTS if c != "users"]  # the clone leaves users as they are
                assert {c: after[c] for c in carried} == {c: expected[c] for c in carried}, outcomes
                nothing_open(src)
                nothing_open(tgt)
            assert outcomes - {"one after the other"}, "they never met: the test showed nothing about two at once"
    finally:
        source.stop()
