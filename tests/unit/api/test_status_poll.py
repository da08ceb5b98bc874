"""The status poll shortcut (api/native/status_poll.py) answers a poll whose credentials and
operation are in memory with the same status, headers and body as the route; it passes every other
request on, so refusals keep their shape and their code."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from envclone.api.native import StatusPollShortcut
from envclone.server import create_app
from envclone.services import authentication, resource
from envclone.services.content_resources import ROLE_ASSIGNMENTS, USERS
from envclone.services.context import ServiceContext
from envclone.services.operations import get_operation
from tests.builders import make_context

ADMIN_PASSWORD = "pw-123456"


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = make_context(tmp_path)
    yield ctx
    ctx.engine.shutdown()
    ctx.db.dispose()


class Server:
    """The app behind the shortcut, counting the requests that reach it."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.app = create_app(ctx)
        self.passed_on: list[str] = []
        self.shortcut = StatusPollShortcut(self._inner, ctx)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.passed_on.append(scope["path"])
        await self.app(scope, receive, send)

    def get(self, path: str, *headers: tuple[str, str]) -> Answer:
        answer = Answer()
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1")] + [(k.encode(), v.encode()) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status, answer.headers = message["status"], list(message["headers"])
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        asyncio.run(self.shortcut(scope, receive, send))
        return answer


def basic(login: str, password: str) -> tuple[str, str]:
    return "authorization", "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def finished_operation(ctx: ServiceContext) -> str:
    admin = authentication.check_password(ctx, "admin", ADMIN_PASSWORD)
    op = ctx.engine.submit("verifyStore", {}, created_by="admin")
    ctx.engine.wait(op.id, 60)
    get_operation(ctx, admin, op.id)
    return op.id


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_the_same_answer_as_the_route(ctx: ServiceContext, scheme: str) -> None:
    op_id = finished_operation(ctx)
    server = Server(ctx)
    if scheme == "basic":
        credentials = basic("admin", ADMIN_PASSWORD)
    else:
        token, _ = authentication.issue_token(ctx, "admin", ADMIN_PASSWORD)
        credentials = ("authorization", f"Bearer {token}")
    ctx.credentials.invalidate()
    path = f"/v1/operations/{op_id}"
    routed = server.get(path, credentials, ("accept-language", "fr"))
    assert server.passed_on == [path]  # the first, credentials unchecked: the normal way
    short = server.get(path, credentials, ("accept-language", "fr"))
    assert server.passed_on == [path]  # the second: answered here
    assert (short.status, short.headers, short.body) == (routed.status, routed.headers, routed.body)
    assert routed.status == 200 and b'"locale":"fr"' in routed.body


def test_refusals_go_the_normal_way(ctx: ServiceContext) -> None:
    op_id = finished_operation(ctx)
    admin = authentication.check_password(ctx, "admin", ADMIN_PASSWORD)
    resource.create_item(ctx, admin, USERS, {"login": "nobody", "password": "No-r0les-here"})
    server = Server(ctx)
    path = f"/v1/operations/{op_id}"
    assert server.get(path, basic("admin", ADMIN_PASSWORD)).status == 200
    assert server.get(path, basic("admin", "wrong")).status == 401
    assert server.get(path, ("authorization", "Basic !!")).status == 401
    assert server.get(path).status == 401
    for _ in range(2):  # checked once the normal way, then cached: still refused, in the route's shape
        refused = server.get(path, basic("nobody", "No-r0les-here"))
        assert refused.status == 403 and b'"forbidden"' in refused.body
    assert server.get("/v1/operations/00000000000000000000000000000000", basic("admin", ADMIN_PASSWORD)).status == 404
    assert len(server.passed_on) == 7  # the first admin poll (unchecked) and every refusal went on


def test_a_viewer_gets_the_viewers_view(ctx: ServiceContext) -> None:
    admin = authentication.check_password(ctx, "admin", ADMIN_PASSWORD)
    resource.create_item(ctx, admin, USERS, {"login": "viewer", "password": "V1ewer-only"})
    assignment = {"principal_kind": "user", "principal_name": "viewer", "role_name": "Viewer"}
    resource.create_item(ctx, admin, ROLE_ASSIGNMENTS, assignment)
    op_id = finished_operation(ctx)
    server = Server(ctx)
    path = f"/v1/operations/{op_id}"
    routed = server.get(path, basic("viewer", "V1ewer-only"))
    short = server.get(path, basic("viewer", "V1ewer-only"))
    assert len(server.passed_on) == 1
    assert short.body == routed.body and b'"created_by":"(hidden)"' in short.body
