"""A clone with one of its two servers killed (SIGKILL, by an armed fault point), on SQLite and
PostgreSQL. The target killed before its apply's transaction, just before its commit and right
after it; the source killed before it asks the target to apply, while the target applies, and
right after the target reported its commit. After the restart: the target holds its old content or
the source's by digest, never a mix; both sides' statuses say which (the source learns it from the
target's receipt if it lost track); nothing stays in progress; and the clone then runs again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from envclone.domain.clone import APPLY_KIND, KIND
from envclone.engine import faults
from envclone.peer.client import RETRIES
from tests.builders import make_environment, tag
from tests.conftest import ADMIN, BACKENDS, database_url
from tests.e2e.client import digests, ok
from tests.e2e.conftest import TARGET_PASSWORD
from tests.e2e.crash import Node, newest, nothing_open, wait_ended, which

OPTIONS = {"storedSnapshotsAndFiles": True}
# What a clone with stored files carries (users stay: migrateUsers is off).
CARRIED = [
    "artifacts",
    "configuration",
    "jobs",
    "settings",
    "dataManagement",
    "jobConsole",
    "applicationAudit",
    "files",
]
TARGET_POINTS = [faults.BEFORE_TRANSACTION, faults.BEFORE_COMMIT, faults.AFTER_COMMIT]
RETRIES_SECONDS = sum(0.5 * 2**attempt for attempt in range(RETRIES - 1))  # peer.client's backoff
SOURCE_POINTS = [faults.BEFORE_APPLY, faults.APPLYING, faults.TARGET_COMMITTED]


@dataclass
class Pair:
    source: Node
    target: Node


@pytest.fixture(scope="module", params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A source and a target, each with a little of everything (small, so that each crash costs
    little); each test starts the servers it needs."""
    nodes = []
    for name, password in (("source", None), ("target", TARGET_PASSWORD)):
        tmp = tmp_path_factory.mktemp(f"crash-clone-{name}-{request.param}")
        node = Node(tmp / "data", database_url(request.param, tmp, request), *([password] if password else []))
        nodes.append(node)
    with nodes[0].start().client() as src:
        changed(src)  # once: the clone sends the snapshot its first run takes, so the source stays as it is
    yield Pair(*nodes)
    for node in nodes:
        node.stop()


def changed(http: httpx.Client) -> None:
    """Every component the clone carries made to differ from what it was."""
    make_environment(http)
    ok(http.patch("/v1/settings", json={"theme": f"t-{tag()}"}))


def clone_body(pair: Pair) -> dict[str, object]:
    return {"target_url": pair.target.url, "target_user": ADMIN, "target_password": TARGET_PASSWORD, "options": OPTIONS}


def start_clone(pair: Pair) -> tuple[str, dict[str, str], dict[str, str]]:
    """Change the target, start a clone; returns its id, the target's and the source's digests."""
    with pair.source.client() as src, pair.target.client() as tgt:
        changed(tgt)
        old, new = digests(tgt), digests(src)
        assert all(old[c] != new[c] for c in CARRIED)
        body = clone_body(pair)
        return ok(src.post("/v1/clone", json=body), 202)["id"], old, new


def check_after(pair: Pair, clone_id: str, old: dict[str, str], new: dict[str, str]) -> str:
    """The target's content old or new, and every status true to it; returns which."""
    with pair.source.client() as src, pair.target.client() as tgt:
        clone = wait_ended(src, clone_id)
        content = which(digests(tgt), old, new, CARRIED)
        apply = newest(tgt, APPLY_KIND) if content == "new" or clone["result"].get("targetApply") else None
        if content == "new":
            assert clone["status"] == "succeeded" and clone["error"] is None, clone
            assert clone["progress"]["percent"] == 100, clone["progress"]
            assert apply is not None and apply["status"] == "succeeded", apply
        else:
            assert clone["status"] == "failed", clone
            assert clone["error"]["code"] != "internal_error", clone["error"]
            assert apply is None or apply["status"] == "failed", apply
        assert not any(s["result"] == "inProgress" for s in clone["steps"]), clone["steps"]
        nothing_open(src)
        nothing_open(tgt)
    return content


def clone_again(pair: Pair) -> None:
    """Nothing left holding either side: a clone now runs to its end and makes the target equal."""
    with pair.source.client() as src, pair.target.client() as tgt:
        body = clone_body(pair)
        op = wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])
        assert op["status"] == "succeeded", op
        theirs, ours = digests(tgt), digests(src)
        assert {c: theirs[c] for c in CARRIED} == {c: ours[c] for c in CARRIED}


def no_traceback(*nodes: Node) -> None:
    for node in nodes:
        assert "Traceback" not in node.log(), node.log()[-3000:]


@pytest.mark.parametrize("point", TARGET_POINTS)
def test_target_killed_around_its_commit(pair: Pair, point: str) -> None:
    pair.source.running()  # one source for all these tests: only the target is killed
    pair.target.start(fault=f"{point}:{APPLY_KIND}")
    clone_id, old, new = start_clone(pair)
    pair.target.died_by_fault()
    if point == faults.AFTER_COMMIT:
        # Down for longer than the source's own retries of a call: it must wait for the target
        # rather than report failed a clone whose target holds the new content.
        time.sleep(RETRIES_SECONDS + 1)
    pair.target.start()  # the same port: the source, still running, finds it again
    content = check_after(pair, clone_id, old, new)
    assert content == ("new" if point == faults.AFTER_COMMIT else "old"), content
    clone_again(pair)
    no_traceback(pair.source, pair.target)


@pytest.mark.parametrize("point", SOURCE_POINTS)
def test_source_killed_around_the_targets_commit(pair: Pair, point: str) -> None:
    pair.source.start(fault=f"{point}:{KIND}")
    pair.target.running()
    clone_id, old, new = start_clone(pair)
    pair.source.died_by_fault()
    if point == faults.APPLYING:
        # The target, on its own, finishes the apply it accepted.
        with pair.target.client() as tgt:
            wait_ended(tgt, newest(tgt, APPLY_KIND)["id"])
    pair.source.start()
    content = check_after(pair, clone_id, old, new)
    assert content == ("old" if point == faults.BEFORE_APPLY else "new"), content
    clone_again(pair)
    no_traceback(pair.source, pair.target)
