"""A Viewer reading operations (native list and item, EPM clone status) does not see the names of
peers or people: a clone's target URL and user, who started it, and messages that repeat them
are hidden; an administrator sees them all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer, free_port
from tests.e2e.client import PREFIX, ok, wait_operation

HIDDEN = "(hidden)"
VIEWER_PASSWORD = "V1ewer-password"


@pytest.fixture(scope="module")
def http(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    with sqlite_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def failed_clone(http: httpx.Client) -> tuple[dict[str, Any], str, str]:
    """A clone to a target nobody listens on (it fails at once), the target URL and user."""
    url, user = f"http://127.0.0.1:{free_port()}/secret-peer", f"peer-admin-{tag()}"
    body = {"target_url": url, "target_user": user, "target_password": "Peer-pass-1"}
    op = ok(http.post("/v1/clone", json=body), 202)
    final = wait_operation(http, op["id"])
    assert final["status"] == "failed" and url in final["error"]["message"], final
    return final, url, user


@pytest.fixture(scope="module")
def viewer(sqlite_server: LiveServer, http: httpx.Client) -> Iterator[httpx.Client]:
    name = f"viewer-{tag()}"
    ok(http.post("/v1/users", json={"login": name, "password": VIEWER_PASSWORD}), 201)
    assignment = {"principal_kind": "user", "principal_name": name, "role_name": "Viewer"}
    ok(http.post("/v1/role-assignments", json=assignment), 201)
    with sqlite_server.client(name, VIEWER_PASSWORD) as client:
        yield client


def test_a_viewer_sees_no_peer_or_principal(
    viewer: httpx.Client, http: httpx.Client, failed_clone: tuple[dict[str, Any], str, str]
) -> None:
    op, url, user = failed_clone
    listed = [o for o in ok(viewer.get("/v1/operations"))["items"] if o["id"] == op["id"]]
    single = ok(viewer.get(f"/v1/operations/{op['id']}"))
    by_number = ok(viewer.get(f"/v1/operations/{op['number']}"))
    epm = ok(viewer.get(f"{PREFIX}/v1/services/clone/status"))
    for seen in (*listed, single, by_number):
        assert seen["parameters"]["target_url"] == HIDDEN and seen["parameters"]["target_user"] == HIDDEN, seen
        assert seen["created_by"] == HIDDEN, seen
        assert seen["status"] == "failed" and seen["steps"] == single["steps"], seen
    assert len(listed) == 1
    for text in (viewer.get("/v1/operations").text, single_text(viewer, op["id"]), str(epm)):
        assert url not in text and user not in text and "127.0.0.1" not in text
    assert HIDDEN in epm["details"], epm


def single_text(client: httpx.Client, op_id: str) -> str:
    return client.get(f"/v1/operations/{op_id}").text


def test_an_administrator_sees_them(http: httpx.Client, failed_clone: tuple[dict[str, Any], str, str]) -> None:
    op, url, user = failed_clone
    seen = ok(http.get(f"/v1/operations/{op['id']}"))
    assert (seen["parameters"]["target_url"], seen["parameters"]["target_user"]) == (url, user)
    assert seen["created_by"] == "admin" and url in seen["error"]["message"]
