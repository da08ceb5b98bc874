"""Parsing the Authorization header (HTTP Basic or Bearer) shared by the surfaces that accept it
(native and EPM); the check itself is a service."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from envclone.auth.principal import Principal
from envclone.errors import InvalidCredentials, NotAuthenticated
from envclone.services import authentication
from envclone.services.context import ServiceContext


def context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def basic_or_bearer(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    ctx = context(request)
    if scheme.lower() == "basic" and value:
        try:
            login, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidCredentials("the Basic credentials are not valid base64 of user:password") from None
        if not sep:
            raise InvalidCredentials("the Basic credentials must be user:password")
        return await run_in_threadpool(authentication.check_password, ctx, login, password)
    if scheme.lower() == "bearer" and value:
        return await run_in_threadpool(authentication.check_token, ctx, value.strip(), kind="bearer")
    raise NotAuthenticated()
