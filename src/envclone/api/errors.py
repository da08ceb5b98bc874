"""One exception handler for the whole app that lets each API surface render errors in its own
shape: a surface registers a renderer for its path prefix; the native shape is the fallback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from envclone.errors import EnvcloneError, InvalidRequest, MalformedJson, NotFound, TooManyAttempts

log = logging.getLogger("envclone.api")
Renderer = Callable[[Request, EnvcloneError], Response]


def native_error(_request: Request, error: EnvcloneError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    headers = {"WWW-Authenticate": 'Basic realm="envclone", Bearer'} if error.status == 401 else None
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)


def _from_validation(exc: RequestValidationError) -> EnvcloneError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedJson()
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg")} for e in errors]
    return InvalidRequest("the request has invalid fields", details=details)


def _from_http(exc: StarletteHTTPException) -> EnvcloneError:
    if exc.status_code == 404:
        return NotFound("no such endpoint")
    error = EnvcloneError(str(exc.detail))
    error.status = exc.status_code
    error.code = {405: "method_not_allowed", 415: "unsupported_media_type"}.get(exc.status_code, "http_error")
    return error


def install_error_handlers(app: FastAPI, renderers: dict[str, Renderer]) -> None:
    ordered = sorted(renderers.items(), key=lambda item: -len(item[0]))

    def render(request: Request, error: EnvcloneError) -> Response:
        renderer = next((r for prefix, r in ordered if request.url.path.startswith(prefix)), native_error)
        response = renderer(request, error)
        if isinstance(error, TooManyAttempts):  # every dialect: when to try again (RFC 9110)
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    async def on_envclone(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EnvcloneError)
        return render(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(request, _from_validation(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return render(request, _from_http(exc))

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # The client went away mid-request (a dropped link, a killed process): nobody reads this
        # answer, and it is no fault of the server's, so no traceback and no 500.
        log.info("client went away during %s %s", request.method, request.url.path)
        return render(request, InvalidRequest("the client disconnected before the request was complete"))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, EnvcloneError())

    app.add_exception_handler(EnvcloneError, on_envclone)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_unexpected)
