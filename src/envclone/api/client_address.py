"""Records, for the services, the network address of the client each request comes from
(services.authentication throttles failed logins by it). The direct peer's address: a
forwarding header is not trusted, since any client can send one."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from envclone.services.authentication import client_address


class ClientAddressMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = client_address.set(str(client[0]) if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            client_address.reset(token)
