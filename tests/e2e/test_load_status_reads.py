"""Status polls over real HTTP, as a load of pollers sends them: answered from the server's caches
of checked credentials and operation views, and yet a password changed, a role taken away or a
token revoked counts from the very next poll; many pollers at once get every answer right."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import ok, wait_operation

PASSWORD = "P0ll-me-often"
POLLS = 30


@pytest.fixture(scope="module")
def http(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    with sqlite_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def op_id(http: httpx.Client) -> str:
    op = ok(http.post("/v1/store/verify"), 202)
    wait_operation(http, op["id"])
    return str(op["id"])


def make_viewer(http: httpx.Client) -> str:
    login = f"poll-{tag()}"
    ok(http.post("/v1/users", json={"login": login, "password": PASSWORD}), 201)
    assignment = {"principal_kind": "user", "principal_name": login, "role_name": "Viewer"}
    ok(http.post("/v1/role-assignments", json=assignment), 201)
    return login


def poll(
    server: LiveServer,
    op_id: str,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    times: int = POLLS,
) -> int:
    """The one status that ``times`` polls in a row all got (a refused password is polled once:
    more would be guesses, which the login throttle answers with 429)."""
    with httpx.Client(base_url=server.url, auth=auth, headers=headers) as client:
        statuses = {client.get(f"/v1/operations/{op_id}").status_code for _ in range(times)}
    assert len(statuses) == 1, statuses
    return statuses.pop()


def test_a_changed_password_counts_from_the_next_poll(
    sqlite_server: LiveServer, http: httpx.Client, op_id: str
) -> None:
    login = make_viewer(http)
    assert poll(sqlite_server, op_id, (login, PASSWORD)) == 200
    ok(http.patch(f"/v1/users/{login}", json={"password": "N3w-" + PASSWORD}))
    assert poll(sqlite_server, op_id, (login, PASSWORD), times=1) == 401
    assert poll(sqlite_server, op_id, (login, "N3w-" + PASSWORD)) == 200


def test_a_role_taken_away_counts_from_the_next_poll(
    sqlite_server: LiveServer, http: httpx.Client, op_id: str
) -> None:
    login = make_viewer(http)
    assert poll(sqlite_server, op_id, (login, PASSWORD)) == 200
    ok(http.delete(f"/v1/role-assignments/user/{login}/Viewer"), 204)
    assert poll(sqlite_server, op_id, (login, PASSWORD)) == 403


def test_a_revoked_token_counts_from_the_next_poll(sqlite_server: LiveServer, http: httpx.Client, op_id: str) -> None:
    login = make_viewer(http)
    with sqlite_server.anonymous() as anon:
        token = ok(anon.post("/v1/auth/token", data={"username": login, "password": PASSWORD}))["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert poll(sqlite_server, op_id, headers=bearer) == 200
    with sqlite_server.anonymous() as anon:
        assert anon.post("/v1/auth/revoke", headers=bearer).status_code == 204
    assert poll(sqlite_server, op_id, headers=bearer) == 401


def test_many_pollers_at_once_get_every_answer_right(
    sqlite_server: LiveServer, http: httpx.Client, op_id: str
) -> None:
    expected = ok(http.get(f"/v1/operations/{op_id}"))
    basic = "Basic " + base64.b64encode(f"{make_viewer(http)}:{PASSWORD}".encode()).decode()

    async def poller(client: httpx.AsyncClient) -> list[int]:
        statuses = []
        for _ in range(20):
            response = await client.get(f"/v1/operations/{op_id}", headers={"Authorization": basic})
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert response.json()["status"] == expected["status"]
                assert response.json()["parameters"] == expected["parameters"]
        return statuses

    async def run() -> list[list[int]]:
        async with httpx.AsyncClient(base_url=sqlite_server.url, timeout=60) as client:
            return await asyncio.gather(*(poller(client) for _ in range(20)))

    assert {status for statuses in asyncio.run(run()) for status in statuses} == {200}
