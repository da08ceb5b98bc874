"""The credential schemes a dialect lists in its auth.py: a session token in a vendor header (as
Strategy's X-MSTR-AuthToken and Veeam's X-RestSvcSessionId will use) authenticates with a token
that services issued for that dialect, and refuses a bad one, a stale one or another kind's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from envclone.api.credentials import (
    BasicScheme,
    BearerScheme,
    SessionCookieScheme,
    SessionHeaderScheme,
    authenticator,
)
from envclone.api.errors import install_error_handlers
from envclone.domain.principal import Principal
from envclone.server import build_context
from envclone.services import authentication
from envclone.services.context import ServiceContext
from envclone.settings import load_settings

PASSWORD = "pw-123456"
HEADER = "X-Test-SessionId"
KIND = "session:test"
COOKIE = "test-session"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    context, _ = build_context(load_settings(data_dir=tmp_path, admin_password=PASSWORD, scheduler=False))
    yield context
    context.engine.shutdown()


class Client:
    """Calls the app in-process over httpx's ASGI transport."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return asyncio.run(self._get(path, headers or {}))

    async def _get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path, headers=headers)


@pytest.fixture
def client(ctx: ServiceContext) -> Client:
    app = FastAPI()
    app.state.ctx = ctx
    install_error_handlers(app, renderers={})
    who_dep = Depends(
        authenticator(
            SessionHeaderScheme(HEADER, KIND), SessionCookieScheme(COOKIE, KIND), BasicScheme(), BearerScheme("bearer")
        )
    )

    @app.get("/whoami")
    async def whoami(who: Principal = who_dep) -> dict[str, Any]:
        return {"login": who.login}

    return Client(app)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_session_header_authenticates_with_a_token_of_its_kind(ctx: ServiceContext, client: Client) -> None:
    token, _ = authentication.issue_token(ctx, "admin", PASSWORD, kind=KIND)
    response = client.get("/whoami", headers={HEADER: token})
    assert response.status_code == 200 and response.json() == {"login": "admin"}


def test_a_session_header_refuses_bad_revoked_and_foreign_tokens(ctx: ServiceContext, client: Client) -> None:
    assert _code(client.get("/whoami", headers={HEADER: "not-a-token"})) == (401, "invalid_credentials")
    bearer, _ = authentication.issue_token(ctx, "admin", PASSWORD, kind="bearer")
    assert _code(client.get("/whoami", headers={HEADER: bearer})) == (401, "invalid_credentials")
    session, _ = authentication.issue_token(ctx, "admin", PASSWORD, kind=KIND)
    # A session token is not a bearer token either: one dialect's session opens no other.
    refused = client.get("/whoami", headers={"Authorization": f"Bearer {session}"})
    assert _code(refused) == (401, "invalid_credentials")
    authentication.revoke_token(ctx, session)
    assert _code(client.get("/whoami", headers={HEADER: session})) == (401, "invalid_credentials")


def test_a_bad_session_is_not_passed_over_for_other_credentials(client: Client) -> None:
    headers = {HEADER: "not-a-token", "Authorization": "Basic YWRtaW46cHctMTIzNDU2"}  # admin:pw-123456
    assert _code(client.get("/whoami", headers=headers)) == (401, "invalid_credentials")
    assert client.get("/whoami", headers={"Authorization": headers["Authorization"]}).status_code == 200
    assert _code(client.get("/whoami", headers={HEADER: "  "})) == (401, "not_authenticated")
    assert _code(client.get("/whoami")) == (401, "not_authenticated")


def test_a_session_cookie_authenticates_and_refuses_like_the_header(ctx: ServiceContext, client: Client) -> None:
    token, _ = authentication.issue_token(ctx, "admin", PASSWORD, kind=KIND)
    assert client.get("/whoami", headers={"cookie": f"{COOKIE}={token}"}).json() == {"login": "admin"}
    bearer, _ = authentication.issue_token(ctx, "admin", PASSWORD, kind="bearer")
    assert _code(client.get("/whoami", headers={"cookie": f"{COOKIE}={bearer}"})) == (401, "invalid_credentials")
    authentication.revoke_token(ctx, token)
    assert _code(client.get("/whoami", headers={"cookie": f"{COOKIE}={token}"})) == (401, "invalid_credentials")
    assert _code(client.get("/whoami", headers={"cookie": "other=x"})) == (401, "not_authenticated")
