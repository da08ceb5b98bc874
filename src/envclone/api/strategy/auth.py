"""Strategy's login and session <-> envclone's sessions: the token travels in ``X-MSTR-AuthToken``
(or the session cookie the login set), is a token of its own kind so that it opens no other
dialect, and is stored only as a hash. A missing, unknown or expired session is ERR009.

A session remembers one thing of its login, through its token kind: whether the client logged in
with one of the SDK's application types (35 Web, 76 Python), because mstrio-py reads duplication
statuses only in upper case while the document writes them in lower case."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

from fastapi import Cookie, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.body import read_bytes, read_json, validate
from envclone.api.credentials import authenticator, context
from envclone.api.strategy.schemas import STANDARD_LOGIN, LoginRequest
from envclone.domain.clock import utcnow
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, NotAuthenticated
from envclone.services import authentication
from envclone.services.context import ServiceContext

SESSION_KIND = "strategy-session"
SDK_SESSION_KIND = "strategy-session-sdk"  # logged in with an application type of SDK_APPLICATIONS
SESSION_KINDS = (SESSION_KIND, SDK_SESSION_KIND)
SDK_APPLICATIONS = frozenset({35, 76})  # mstrio-py's APPLICATION_TYPE_WEB and APPLICATION_TYPE_PYTHON
TOKEN_HEADER = "X-MSTR-AuthToken"  # noqa: S105  (a header name, not a secret)
PROJECT_HEADER = "X-MSTR-ProjectID"
COOKIE = "JSESSIONID"
COOKIE_PATH = "/MicroStrategyLibrary"
LOGIN_LIMIT = 64 * 1024
NO_SESSION = "No session, or the session has expired: log in with POST /api/auth/login"


class StrategySessionScheme:
    """The token in X-MSTR-AuthToken, else in the session cookie, of either Strategy session kind.
    A token that is sent but not live is refused, never passed over for the cookie. The session's
    kind is left on ``request.state`` for the routes that render by it."""

    async def authenticate(self, request: Request, ctx: ServiceContext) -> Principal | None:
        value = request.headers.get(TOKEN_HEADER, "").strip() or request.cookies.get(COOKIE, "").strip()
        if not value:
            return None
        # A session checked a moment ago is answered here, without a trip to a worker thread.
        cached = authentication.cached_token(ctx, value, SESSION_KINDS)
        if cached is None:
            cached = await run_in_threadpool(authentication.check_session, ctx, value, kinds=SESSION_KINDS)
        who, kind = cached
        request.state.strategy_session_kind = kind
        return who


_check = authenticator(StrategySessionScheme())


def session_kind(application_type: int | None) -> str:
    return SDK_SESSION_KIND if application_type in SDK_APPLICATIONS else SESSION_KIND


def kind_of(request: Request) -> str:
    """The kind of the session that ``authenticated`` accepted for this request."""
    return str(getattr(request.state, "strategy_session_kind", SESSION_KIND))


def upper_case_status(request: Request) -> bool:
    """Whether duplication statuses go out in upper case (the setting, else the session's kind)."""
    case = context(request).settings.strategy_status_case
    return case == "upper" or (case == "session" and kind_of(request) == SDK_SESSION_KIND)


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
