"""How a request proves who sends it, as one small type per scheme (HTTP Basic, Bearer, a session
token in a vendor header); each dialect's ``auth.py`` lists the schemes it accepts, in order, and
builds its dependency here. Parsing only: checking a password or token is a service."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from envclone.domain.principal import Principal
from envclone.errors import InvalidCredentials, NotAuthenticated
from envclone.services import authentication
from envclone.services.context import ServiceContext

Authenticator = Callable[[Request], Awaitable[Principal]]


def context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


class CredentialScheme(Protocol):
    """One way of carrying credentials. ``authenticate`` returns None when the request does not
    use this scheme (the next one is tried), the Principal when it does and they hold, and raises
    InvalidCredentials when it does and they do not: a bad credential is never passed over."""

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None: ...


def _authorization(request: Request, scheme: str) -> str | None:
    """The value after ``scheme`` in the Authorization header, or None if another or empty."""
    name, _, value = request.headers.get("authorization", "").partition(" ")
    return value if name.lower() == scheme and value else None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) from ``Authorization: Basic``, None without one; InvalidCredentials when
    it is not base64 of user:password. Also for a dialect whose login takes Basic."""
    value = _authorization(request, "basic")
    if value is None:
        return None
    try:
        login, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidCredentials("the Basic credentials are not valid base64 of user:password") from None
    if not sep:
        raise InvalidCredentials("the Basic credentials must be user:password")
    return login, password


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer``, None without one."""
    value = _authorization(request, "bearer")
    return value.strip() if value is not None else None


async def _token(ctx: ServiceContext, token: str, kind: str) -> Principal:
    """A token checked a moment ago is answered here; another costs a worker thread's queries."""
    cached = authentication.cached_token(ctx, token, (kind,))
    if cached is not None:
        return cached[0]
    return await run_in_threadpool(authentication.check_token, ctx, token, kind=kind)


class BasicScheme:
    """``Authorization: Basic base64(user:password)`` (RFC 7617)."""

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None:
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        # Checked a moment ago: answered here, without a trip to a worker thread.
        return authentication.cached_password(ctx, *credentials) or await run_in_threadpool(
            authentication.check_password, ctx, *credentials
        )


@dataclass(frozen=True)
class BearerScheme:
    """``Authorization: Bearer <token>`` (RFC 6750), for tokens of ``token_kind``."""

    token_kind: str

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None:
        value = bearer_token(request)
        if value is None:
            return None
        return await _token(ctx, value, self.token_kind)


@dataclass(frozen=True)
class SessionHeaderScheme:
    """A session token in a header of its own (Strategy's ``X-MSTR-AuthToken``, Veeam's
    ``X-RestSvcSessionId``); only tokens of ``token_kind`` are accepted, so a session of one
    dialect does not open another."""

    header: str
    token_kind: str

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None:
        value = request.headers.get(self.header, "").strip()
        if not value:
            return None
        return await _token(ctx, value, self.token_kind)


@dataclass(frozen=True)
class SessionCookieScheme:
    """A session token in a cookie that the login response set (a browser or an SDK that keeps
    cookies); only tokens of ``token_kind`` are accepted."""

    cookie: str
    token_kind: str

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None:
        value = request.cookies.get(self.cookie, "").strip()
        if not value:
            return None
        return await _token(ctx, value, self.token_kind)


def authenticator(*schemes: CredentialScheme) -> Authenticator:
    """A FastAPI dependency that tries ``schemes`` in order; NotAuthenticated when none is used."""

    async def authenticated(request: Request) -> Principal:
        ctx = context(request)
        for scheme in schemes:
            who = await scheme.authenticate(request, ctx)
            if who is not None:
                return who
        raise NotAuthenticated()

    return authenticated
