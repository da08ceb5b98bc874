"""Enterprise Manager logon sessions <-> envclone's sessions: a login with HTTP Basic opens a token
of its own kind (it opens no other dialect), sent back in ``X-RestSvcSessionId`` and a cookie of
that name; when a request carries both, the cookie wins. A session ends after 15 minutes without
a request: each authenticated request restarts its time. Tokens are stored only as hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from fastapi import Cookie, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.credentials import basic_credentials, context
from envclone.domain.clock import utcnow
from envclone.domain.principal import Principal
from envclone.errors import InvalidCredentials, NotAuthenticated
from envclone.services import authentication

SESSION_KIND = "veeam-session"
SESSION_HEADER = "X-RestSvcSessionId"
COOKIE = SESSION_HEADER
COOKIE_PATH = "/api"
IDLE_SECONDS = 15 * 60
NO_SESSION = "No logon session, or it has expired: log on with POST /api/sessionMngr/?v=latest"
LOGIN_FAILED = "Logon failed: the user name or password is incorrect"


def token_of(request: Request) -> str:
    """The session id: the cookie's when both are sent (the cookie wins), else the header's."""
    value = request.cookies.get(COOKIE, "").strip() or request.headers.get(SESSION_HEADER, "").strip()
    if not value:
        raise NotAuthenticated(NO_SESSION)
    return value


def session_id(token: str) -> str:
    """The session's public id (a UUID, as Veeam shows it): derived from the token, not the token,
    so that it can appear in URLs and logs."""
    return str(uuid.UUID(hashlib.sha256(f"veeam-session\0{token}".encode()).hexdigest()[:32]))


# The header and cookie parameters are declared so that OpenAPI shows them; token_of reads them.
async def authenticated(
    request: Request,
    token: str | None = Header(None, alias=SESSION_HEADER, description="the id from POST /api/sessionMngr/"),
    cookie: str | None = Cookie(None, alias=COOKIE, description="the session cookie; wins over the header"),
) -> Principal:
    """The session's user, its idle time restarted. A bad id is a session that is gone."""
    try:
        return await run_in_threadpool(
            authentication.touch_session,
            context(request),
            token_of(request),
            kind=SESSION_KIND,
            ttl_seconds=IDLE_SECONDS,
        )
    except NotAuthenticated:
        raise NotAuthenticated(NO_SESSION) from None


async def log_on(request: Request) -> tuple[str, str, dt.datetime]:
    """(user, token, expiry) of a new session for the request's Basic credentials."""
    credentials = basic_credentials(request)
    if credentials is None:
        raise NotAuthenticated("Logon requires HTTP Basic credentials")
    try:
        token, expires = await run_in_threadpool(
            authentication.open_session, context(request), *credentials, kind=SESSION_KIND, ttl_seconds=IDLE_SECONDS
        )
    except InvalidCredentials:
        raise InvalidCredentials(LOGIN_FAILED) from None
    return credentials[0], token, expires


def start_session(response: Response, token: str, expires: dt.datetime) -> None:
    response.headers[SESSION_HEADER] = token
    max_age = max(0, int((expires - utcnow()).total_seconds()))
    response.set_cookie(COOKIE, token, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")
