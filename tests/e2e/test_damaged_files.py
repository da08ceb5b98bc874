"""A damaged live file (one byte of its stored content flipped) over real HTTP: a download fails
instead of serving the damaged bytes, `POST /v1/store/verify` (and `envclone verify --live`) names
the file, and a restore with files repairs the content from the backup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import make_user
from tests.conftest import LiveServer
from tests.e2e.client import RESTORE, ok, poll, run_maintenance, started, wait_operation
from tests.e2e.conftest import Servers

SMALL = os.urandom(3000)  # one piece: checked whole before the response starts
LARGE = os.urandom(3 * 1024 * 1024 + 17)  # several pieces: the response is cut short


@pytest.fixture(scope="module")
def server(servers: Servers) -> LiveServer:
    return servers.start()


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def blob_path(server: LiveServer, http: httpx.Client, name: str) -> Path:
    content_hash = ok(http.get("/v1/files/inbox", params={"prefix": name}))["items"][0]["hash"]
    return server.data_dir / "blobs" / "files" / content_hash


def spoil(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def verify_store(http: httpx.Client) -> dict[str, object]:
    op = ok(http.post("/v1/store/verify"), 202)
    assert op["kind"] == "verifyStore"
    return wait_operation(http, op["id"])


def test_damage_is_found_refused_and_repaired_by_a_restore(server: LiveServer, http: httpx.Client) -> None:
    ok(http.put("/v1/files/inbox/small.bin", content=SMALL), 201)
    ok(http.put("/v1/files/inbox/large.bin", content=LARGE), 201)
    sound = verify_store(http)
    assert sound["status"] == "succeeded" and sound["result"]["ok"] is True, sound  # type: ignore[index]
    backup = run_maintenance(http, server)["environmentBackup"]

    spoil(blob_path(server, http, "small.bin"))
    spoil(blob_path(server, http, "large.bin"))

    # A content that fits in one piece: a proper error response, no byte of it served.
    response = http.get("/v1/files/inbox/small.bin")
    assert response.status_code == 500 and response.json()["error"]["code"] == "blob_damaged", response.text
    # A larger one: the response is cut short, so no client takes it as whole.
    with pytest.raises(httpx.HTTPError):
        received = http.get("/v1/files/inbox/large.bin")
        assert received.content != LARGE  # never reached when the transfer is cut
        raise AssertionError("a damaged file was served whole")

    damaged = verify_store(http)
    assert damaged["status"] == "failed" and damaged["error"]["code"] == "store_damaged", damaged  # type: ignore[index]
    named = {f for d in damaged["result"]["damaged"] for f in d["files"]}  # type: ignore[index]
    assert named == {"inbox/small.bin", "inbox/large.bin"}

    every = {"storedSnapshotsAndFiles": True}
    href, _ = started(ok(http.post(RESTORE, json={"backupName": backup, "parameters": every})), server)
    assert poll(http, href)["status"] == 0
    assert http.get("/v1/files/inbox/small.bin").content == SMALL
    assert http.get("/v1/files/inbox/large.bin").content == LARGE
    assert verify_store(http)["status"] == "succeeded"


def test_a_viewer_may_not_start_a_store_verification(server: LiveServer, http: httpx.Client) -> None:
    login, password = make_user(http, "Viewer")
    with server.client(login, password) as viewer:
        response = viewer.post("/v1/store/verify")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
