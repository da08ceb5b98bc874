"""A password change, disabling and deleting a user each end that user's tokens and sessions, in
every dialect (native and EPM bearer tokens, Strategy sessions); enabling the user again revives
none of them, and other users' tokens live on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import PREFIX, ok, wait_operation
from tests.e2e.strategy.library import API, login

PASSWORD = "Rev0ke-me-please"
EPM_PROBE = f"{PREFIX}/v2/maintenance/rundailymaintenance/status/999999999"  # authenticated, then not found


@pytest.fixture(scope="module")
def http(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    with sqlite_server.client() as client:
        yield client


def make_user(http: httpx.Client) -> str:
    name = f"rev-{tag()}"
    ok(http.post("/v1/users", json={"login": name, "password": PASSWORD}), 201)
    assignment = {"principal_kind": "user", "principal_name": name, "role_name": "Viewer"}
    ok(http.post("/v1/role-assignments", json=assignment), 201)
    return name


class Credentials:
    """A native bearer token and a Strategy session of one user, and how each fares now."""

    def __init__(self, server: LiveServer, user: str, password: str = PASSWORD) -> None:
        self.server = server
        with server.anonymous() as anon:
            body = ok(anon.post("/v1/auth/token", data={"username": user, "password": password}))
        self.bearer = body["access_token"]
        self.session = login(server, user, password)

    def statuses(self) -> dict[str, int]:
        bearer = {"authorization": f"Bearer {self.bearer}"}
        with self.server.anonymous() as anon:
            return {
                "native": anon.get("/v1/auth/whoami", headers=bearer).status_code,
                "epm": anon.get(EPM_PROBE, headers=bearer).status_code,
                "strategy": anon.get(f"{API}/sessions", headers={"X-MSTR-AuthToken": self.session}).status_code,
            }


ALIVE = {"native": 200, "epm": 404, "strategy": 200}  # no such EPM job: authenticated, then not found
DEAD = {"native": 401, "epm": 401, "strategy": 401}


def change_password(http: httpx.Client, user: str) -> None:
    ok(http.patch(f"/v1/users/{user}", json={"password": "N3w-" + PASSWORD}))


def disable(http: httpx.Client, user: str) -> None:
    ok(http.patch(f"/v1/users/{user}", json={"enabled": False}))


def disable_and_enable(http: httpx.Client, user: str) -> None:
    disable(http, user)
    ok(http.patch(f"/v1/users/{user}", json={"enabled": True}))


def delete_and_recreate(http: httpx.Client, user: str) -> None:
    ok(http.delete(f"/v1/users/{user}"), 204)
    ok(http.post("/v1/users", json={"login": user, "password": PASSWORD}), 201)
    assignment = {"principal_kind": "user", "principal_name": user, "role_name": "Viewer"}
    ok(http.post("/v1/role-assignments", json=assignment), 201)


@pytest.mark.parametrize("change", [change_password, disable, disable_and_enable, delete_and_recreate])
def test_a_credential_change_ends_every_token_and_session(
    sqlite_server: LiveServer, http: httpx.Client, change: Callable[[httpx.Client, str], None]
) -> None:
    user, bystander = make_user(http), make_user(http)
    mine, theirs = Credentials(sqlite_server, user), Credentials(sqlite_server, bystander)
    assert mine.statuses() == ALIVE and theirs.statuses() == ALIVE
    change(http, user)
    assert mine.statuses() == DEAD
    assert theirs.statuses() == ALIVE


def test_other_changes_keep_tokens(sqlite_server: LiveServer, http: httpx.Client) -> None:
    user = make_user(http)
    mine = Credentials(sqlite_server, user)
    ok(http.patch(f"/v1/users/{user}", json={"display_name": "Still Me", "enabled": True}))
    assert mine.statuses() == ALIVE


def test_new_credentials_work_after_a_change(sqlite_server: LiveServer, http: httpx.Client) -> None:
    user = make_user(http)
    change_password(http, user)
    assert Credentials(sqlite_server, user, "N3w-" + PASSWORD).statuses() == ALIVE


def test_a_restore_that_changes_a_password_ends_its_sessions(sqlite_server: LiveServer, http: httpx.Client) -> None:
    user, bystander = make_user(http), make_user(http)
    ran = ok(http.post("/v1/maintenance/run", json={}), 202)
    assert wait_operation(http, ran["id"])["status"] == "succeeded"
    backups = ok(http.get("/v1/backups"))["items"]
    backup = next(b["name"] for b in reversed(backups) if b["kind"] == "environment_backup")
    change_password(http, user)  # the backup keeps the old one
    mine = Credentials(sqlite_server, user, "N3w-" + PASSWORD)
    theirs = Credentials(sqlite_server, bystander)
    restore = ok(http.post("/v1/restore", json={"backup_name": backup, "users": True}), 202)
    assert wait_operation(http, restore["id"])["status"] == "succeeded"
    assert mine.statuses() == DEAD  # the restore put the old password back
    assert theirs.statuses() == ALIVE  # unchanged by the restore
    assert Credentials(sqlite_server, user).statuses() == ALIVE
