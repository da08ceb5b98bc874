"""A short way for the most frequent request, a status poll (``GET /v1/operations/{id}``): when the
credentials were checked a moment ago and the operation is in memory (running here, or ended a
moment ago), the answer is written here, without FastAPI's routing and dependency solving, by the
route's own render and response. In every other case, an error included, the request goes the
normal way, which answers it as it always has: this never refuses anything itself."""

from __future__ import annotations

import re

from fastapi import Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from envclone.api.credentials import basic_credentials, bearer_token
from envclone.api.native.operations import json_response, render
from envclone.domain.principal import Principal
from envclone.errors import EnvcloneError
from envclone.locales import translator_for
from envclone.services import authentication, operations
from envclone.services.context import ServiceContext

_POLL = re.compile(r"/v1/operations/([0-9A-Fa-f]{32}|[0-9]{1,19})")  # the route's OpId


class StatusPollShortcut:
    """ASGI middleware; must sit inside ClientAddressMiddleware (the login throttle reads the
    address that one sets)."""

    def __init__(self, app: ASGIApp, ctx: ServiceContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            poll = _POLL.fullmatch(scope["path"])
            if poll is not None:
                request = Request(scope)
                try:
                    answer = self._answer(request, poll.group(1))
                except EnvcloneError:
                    answer = None  # the normal way says it in the right shape
                if answer is not None:
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _answer(self, request: Request, ref: str) -> Response | None:
        who = self._cached_principal(request)
        if who is None:
            return None
        op = operations.peek_operation(self.ctx, who, ref)
        if op is None:
            return None
        tr = translator_for(request.headers.get("accept-language"), self.ctx.settings.locale)
        return json_response(render(op, tr))

    def _cached_principal(self, request: Request) -> Principal | None:
        """The native API's schemes (api/native/auth.py), in its order, answered from the cache only."""
        credentials = basic_credentials(request)
        if credentials is not None:
            return authentication.cached_password(self.ctx, *credentials)
        token = bearer_token(request)
        if token is None:
            return None
        cached = authentication.cached_token(self.ctx, token, ("bearer",))
        return cached[0] if cached is not None else None
