"""Failed password logins are throttled on every login path (HTTP Basic on each dialect, the native
token endpoint, Strategy's login): a few free failures, then 429 with Retry-After in the dialect's
error shape until a growing delay passes, then a lock of that (user, address) pair that expires and
never keeps the same user out from another address. Small settings keep the test fast."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import PREFIX, epm_error, ok
from tests.e2e.strategy.library import API

PASSWORD = "Thr0ttle-me"
LOCK_SECONDS = 3.0
SETTINGS = {
    "ENVCLONE_LOGIN_FREE_FAILURES": "2",
    "ENVCLONE_LOGIN_LOCK_FAILURES": "4",
    "ENVCLONE_LOGIN_LOCK_SECONDS": str(LOCK_SECONDS),
    "ENVCLONE_LOGIN_DELAY_SECONDS": "0.3",
    "ENVCLONE_LOGIN_MAX_DELAY_SECONDS": "0.6",
    "ENVCLONE_LOGIN_USER_FREE_FAILURES": "1000",
    "ENVCLONE_LOGIN_ADDRESS_FREE_FAILURES": "1000",
}
Attempt = Callable[[str], httpx.Response]  # a login with this password


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("throttle")
    started = LiveServer(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}", extra_env=SETTINGS).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def user(admin: httpx.Client) -> str:
    name = f"thr-{tag()}"
    ok(admin.post("/v1/users", json={"login": name, "password": PASSWORD}), 201)
    assignment = {"principal_kind": "user", "principal_name": name, "role_name": "Service Administrator"}
    ok(admin.post("/v1/role-assignments", json=assignment), 201)
    return name


def client(server: LiveServer, source: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from ``source`` (another loopback address is another client)."""
    return httpx.Client(base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address=source))


def paths(server: LiveServer, http: httpx.Client, user: str) -> dict[str, Attempt]:
    return {
        "native-basic": lambda pw: http.get("/v1/auth/whoami", auth=(user, pw)),
        "native-token": lambda pw: http.post("/v1/auth/token", data={"username": user, "password": pw}),
        "epm-basic": lambda pw: http.get(f"{PREFIX}/v2/maintenance/rundailymaintenance/status/999", auth=(user, pw)),
        "strategy-login": lambda pw: http.post(
            f"{API}/auth/login", json={"username": user, "password": pw, "loginMode": 1}
        ),
        "veeam-login": lambda pw: http.post("/api/sessionMngr/", params={"v": "latest"}, auth=(user, pw)),
    }


def accepted(response: httpx.Response) -> bool:
    return response.status_code in (200, 201, 204, 404)  # 404: the EPM job does not exist, but we got in


def throttled(response: httpx.Response) -> float:
    assert response.status_code == 429, response.text
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= LOCK_SECONDS + 1, retry
    if "/interop/rest" in str(response.request.url):
        epm_error(response, 429, 16)
    elif "/v1/" in str(response.request.url):
        assert response.json()["error"]["code"] == "too_many_attempts", response.text
    elif "/api/sessionMngr" in str(response.request.url):  # Veeam's Error, in XML by default
        assert "<Error" in response.text and 'StatusCode="429"' in response.text, response.text
    else:
        assert set(response.json()) >= {"code", "message"}, response.text
    return retry


@pytest.mark.parametrize("path", ["native-basic", "native-token", "epm-basic", "strategy-login", "veeam-login"])
def test_every_login_path_slows_down_then_locks(server: LiveServer, user: str, path: str) -> None:
    with client(server) as http:
        attempt = paths(server, http, user)[path]
        assert attempt("wrong").status_code == 401  # the free failure
        assert attempt("wrong").status_code == 401  # the second: now a delay
        throttled(attempt("wrong"))
        throttled(attempt(PASSWORD))  # while waiting even the right password is refused, unchecked
        time.sleep(0.35)
        assert attempt("wrong").status_code == 401  # the third failure, after its delay
        throttled(attempt("wrong"))
        time.sleep(0.65)
        assert attempt("wrong").status_code == 401  # the fourth: the pair is now locked
        throttled(attempt(PASSWORD))
        time.sleep(0.7)
        throttled(attempt(PASSWORD))  # past the longest delay: still locked
        with client(server, "127.0.0.2") as elsewhere:
            assert accepted(paths(server, elsewhere, user)[path](PASSWORD))  # not locked out elsewhere
        time.sleep(LOCK_SECONDS)
        assert accepted(attempt(PASSWORD))  # the lock expired; the success clears the pair
        assert attempt("wrong").status_code == 401


def test_a_success_resets_the_count(server: LiveServer, user: str) -> None:
    with client(server) as http:
        attempt = paths(server, http, user)["native-basic"]
        for _ in range(3):
            assert attempt("wrong").status_code == 401  # the free failure: no wait after it
            assert accepted(attempt(PASSWORD))
