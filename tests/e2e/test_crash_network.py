"""A clone whose connection to its target drops mid-transfer (a proxy on loopback cuts it in the
middle of a chunk the source uploads, or of an answer the target sends back, and lets nothing
through after), on SQLite and PostgreSQL: the clone fails saying it lost the connection, the
target is unchanged by digest, nothing stays in progress, and once the link is back the same
clone succeeds."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from envclone.domain.clone import APPLY_KIND
from tests.builders import make_environment, tag
from tests.conftest import ADMIN, BACKENDS, database_url
from tests.e2e.client import digests, ok
from tests.e2e.conftest import TARGET_PASSWORD
from tests.e2e.crash import Node, nothing_open, wait_ended
from tests.e2e.proxy import DOWN, UP, dropping_proxy

OPTIONS = {"storedSnapshotsAndFiles": True}
CARRIED = ["artifacts", "configuration", "jobs", "settings", "dataManagement", "jobConsole", "applicationAudit"]
FILE_BYTES = 4 * 1024 * 1024  # random, so several chunks that do not compress
CUT_AFTER = 1024 * 1024  # request bytes through the link before it drops: inside the file's chunks


@pytest.fixture(scope="module", params=BACKENDS)
def nodes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    started = []
    for name, password in (("source", None), ("target", TARGET_PASSWORD)):
        tmp = tmp_path_factory.mktemp(f"crash-net-{name}-{request.param}")
        node = Node(tmp / "data", database_url(request.param, tmp, request), *([password] if password else []))
        started.append(node.start())
    with started[0].client() as src:
        make_environment(src)
    yield started[0], started[1]
    for node in started:
        node.stop()


def applies(http: httpx.Client) -> int:
    return int(ok(http.get("/v1/operations", params={"kind": APPLY_KIND, "limit": 1}))["total"])


@pytest.mark.parametrize("direction", [UP, DOWN])
def test_a_link_dropped_mid_transfer(nodes: tuple[Node, Node], direction: str) -> None:
    source, target = nodes
    with source.client() as src, target.client() as tgt:
        ok(src.put(f"/v1/files/inbox/big-{tag()}.bin", content=os.urandom(FILE_BYTES)), 201)
        make_environment(tgt)
        before, applied = digests(tgt), applies(tgt)
        with dropping_proxy(target.port or 0, direction=direction, after_bytes=CUT_AFTER) as link:
            body = {"target_url": link.url, "target_user": ADMIN, "target_password": TARGET_PASSWORD}
            body["options"] = OPTIONS
            failed = wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])
            assert link.dropped.is_set(), "the link never dropped: the test cut nothing"
            assert failed["status"] == "failed", failed
            assert failed["error"]["code"] == "unreachable", failed["error"]
            assert "lost the connection to the target" in failed["error"]["message"], failed["error"]
            assert not any(s["result"] == "inProgress" for s in failed["steps"]), failed["steps"]
            # Cut during the transfer: the target was never asked to apply, and holds what it held.
            assert applies(tgt) == applied
            assert digests(tgt) == before
            nothing_open(src)
            nothing_open(tgt)

            link.heal()
            again = wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])
            assert again["status"] == "succeeded", again
            theirs, ours = digests(tgt), digests(src)
            assert {c: theirs[c] for c in [*CARRIED, "files"]} == {c: ours[c] for c in [*CARRIED, "files"]}
            assert again["result"]["bytesSent"] < again["result"]["bytesTotal"], again["result"]
    for node in nodes:
        assert "Traceback" not in node.log(), node.log()[-3000:]
