"""Strategy's login and session <-> envclone's sessions: the token travels in ``X-MSTR-AuthToken``
(or the session cookie the login set), is a token of its own kind so that it opens no other
dialect, and is stored only as a hash. A missing, unknown or expired session is ERR009."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

from fastapi import Cookie, Header, Request, Response

from envclone.api.body import read_bytes, read_json, validate
from envclone.api.credentials import SessionCookieScheme, SessionHeaderScheme, authenticator
from envclone.api.strategy.schemas import STANDARD_LOGIN, LoginRequest
from envclone.domain.clock import utcnow
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, NotAuthenticated

SESSION_KIND = "strategy-session"
TOKEN_HEADER = "X-MSTR-AuthToken"  # noqa: S105  (a header name, not a secret)
PROJECT_HEADER = "X-MSTR-ProjectID"
COOKIE = "JSESSIONID"
COOKIE_PATH = "/MicroStrategyLibrary"
LOGIN_LIMIT = 64 * 1024
NO_SESSION = "No session, or the session has expired: log in with POST /api/auth/login"

_check = authenticator(SessionHeaderScheme(TOKEN_HEADER, SESSION_KIND), SessionCookieScheme(COOKIE, SESSION_KIND))


async def project_header(
    project: str | None = Header(None, alias=PROJECT_HEADER, description="accepted on any request, not checked"),
) -> None:
    """Declares X-MSTR-ProjectID on every route (OpenAPI); nothing here depends on it yet."""


# The header and cookie parameters are declared so that OpenAPI shows them; the schemes read them.
async def authenticated(
    request: Request,
    token: str | None = Header(None, alias=TOKEN_HEADER, description="the token from POST /api/auth/login"),
    cookie: str | None = Cookie(None, alias=COOKIE, description="the session cookie, if no token header"),
) -> Principal:
    """The session's user. A bad token is not a failed login here but a session that is gone."""
    try:
        return await _check(request)
    except NotAuthenticated:
        raise NotAuthenticated(NO_SESSION) from None


def token_of(request: Request) -> str:
    value = request.headers.get(TOKEN_HEADER, "").strip() or request.cookies.get(COOKIE, "").strip()
    if not value:
        raise NotAuthenticated(NO_SESSION)
    return value


async def read_login(request: Request) -> LoginRequest:
    """The login body as JSON or as a form (the SDK sends a form)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        raw = await read_bytes(request, LOGIN_LIMIT)
        try:
            fields = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise InvalidRequest("the form is not UTF-8") from None
        body = validate(LoginRequest, fields)
    else:
        body = validate(LoginRequest, await read_json(request, LOGIN_LIMIT))
    if body.login_mode != STANDARD_LOGIN:
        raise InvalidRequest(f"loginMode {body.login_mode} is not offered; use 1 (standard)")
    return body


def start_session(response: Response, token: str, expires: dt.datetime) -> None:
    response.headers[TOKEN_HEADER] = token
    max_age = max(0, int((expires - utcnow()).total_seconds()))
    response.set_cookie(COOKIE, token, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")
