"""What the Strategy tests share: the Library base path, logging in as Strategy clients do, and
the check of Strategy's error shape."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer

API = "/MicroStrategyLibrary/api"
HEX32 = re.compile(r"^[0-9A-F]{32}$")


def login(
    server: LiveServer,
    user: str = ADMIN,
    password: str = ADMIN_PASSWORD,
    *,
    form: bool = False,
    application_type: int | None = 35,
) -> str:
    """A new session's token; the body as JSON, or as the SDK's form. Without an application type
    (as the document's curl samples log in) duplication statuses come in lower case."""
    body: dict[str, object] = {"username": user, "password": password, "loginMode": 1}
    if application_type is not None:
        body["applicationType"] = application_type
    with server.anonymous() as anon:
        response = anon.post(f"{API}/auth/login", **({"data": body} if form else {"json": body}))
    assert response.status_code == 204, response.text
    token = response.headers["X-MSTR-AuthToken"]
    assert token and token not in response.text
    return token


def session(server: LiveServer, token: str) -> httpx.Client:
    """A client that sends ``token`` as Strategy clients do, and no other credential."""
    return httpx.Client(base_url=server.url + API, headers={"X-MSTR-AuthToken": token}, timeout=60)


def strategy_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """Strategy's error body: ``code``, ``message``, ``ticketId``, ``iServerCode``."""
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    body: dict[str, object] = response.json()
    assert set(body) == {"code", "message", "ticketId", "iServerCode"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["ticketId"], str) and HEX32.match(body["ticketId"])
    return body
