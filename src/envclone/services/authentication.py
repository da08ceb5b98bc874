"""Logging in: HTTP Basic credentials and bearer tokens to a Principal, and the token endpoint.
Failures say nothing about which part was wrong. Every password login of every dialect passes
through check_password, which throttles failed attempts (auth.throttle) by user and address."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar

import sqlalchemy as sa

from envclone.auth import tokens
from envclone.auth.passwords import verify_password
from envclone.domain.principal import Principal
from envclone.errors import InvalidCredentials, TooManyAttempts
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.principals import roles_of
from envclone.store.repository import TableRepository

_users = TableRepository(tables.users)


# The address of the client whose request is being served, set once per request by the API
# (api/client_address.py) rather than passed by each login route, so that no dialect's login,
# present or future, can leave it out. Empty for callers in the same process.
client_address: ContextVar[str] = ContextVar("client_address", default="")


def _verified(ctx: ServiceContext, hashed: str | None, password: str, epoch: int) -> bool:
    if hashed is None:
        verify_password(None, password)  # same cost as a real check
        return False
    if ctx.credentials.proven(hashed, password):
        return True
    if not verify_password(hashed, password):
        return False
    ctx.credentials.remember_proof(hashed, password, epoch)
    return True


def cached_password(ctx: ServiceContext, login: str, password: str) -> Principal | None:
    """The user, if these credentials were checked a moment ago and nothing revoked them since:
    no database, no hashing, so the API may call it on its event loop. None means "ask
    check_password". The login throttle holds here as it does there."""
    who = ctx.credentials.password(login, password)
    if who is None:
        return None
    key, address = login[:256], client_address.get()
    wait = ctx.logins.wait(key, address)
    if wait > 0:
        raise TooManyAttempts(wait)
    ctx.logins.succeeded(key, address)
    return who


def check_password(ctx: ServiceContext, login: str, password: str) -> Principal:
    """The user, if the password is right; TooManyAttempts, without checking, while this user
    or address must wait after failed logins."""
    key, address = login[:256], client_address.get()  # no login is longer: bounded memory
    wait = ctx.logins.wait(key, address)
    if wait > 0:
        raise TooManyAttempts(wait)
    cached = ctx.credentials.password(login, password)
    if cached is not None:
        ctx.logins.succeeded(key, address)
        return cached
    epoch = ctx.credentials.epoch  # before the reads: a revocation after them discards their answer
    with ctx.db.read() as conn:
        # No login holds NUL (PostgreSQL could not even compare it): such a name is a failure.
        user = _users.find(conn, {"login": login}) if "\x00" not in login else None
        hashed = user["password_hash"] if user and user["enabled"] else None
        if not _verified(ctx, hashed, password, epoch):
            ctx.logins.failed(key, address)
            raise InvalidCredentials()
        ctx.logins.succeeded(key, address)
        who = Principal.of(login, roles_of(conn, login))
    ctx.credentials.remember_password(login, password, who, epoch)
    return who


def cached_token(ctx: ServiceContext, token: str, kinds: tuple[str, ...] | None) -> tuple[Principal, str] | None:
    """The user and kind of a token (of one of ``kinds`` unless None) checked a moment ago; None
    means "ask the database". No I/O: the API may call it on its event loop."""
    entry = ctx.credentials.token(token)
    if entry is None or (kinds is not None and entry.kind not in kinds) or not tokens.live(entry.expires):
        return None
    return entry.principal, entry.kind


def _token(ctx: ServiceContext, token: str, kinds: tuple[str, ...] | None) -> tuple[Principal, str]:
    cached = cached_token(ctx, token, kinds)
    if cached is not None:
        return cached
    epoch = ctx.credentials.epoch
    with ctx.db.read() as conn:
        found = tokens.lookup(conn, token, kinds)
        user = _users.find(conn, {"login": found[0]}) if found else None
        if found is None or user is None or not user["enabled"]:
            raise InvalidCredentials()
        login, kind, expires = found
        who = Principal.of(login, roles_of(conn, login))
    ctx.credentials.remember_token(token, who, kind, expires, epoch)
    return who, kind


def check_token(ctx: ServiceContext, token: str, *, kind: str | None = None) -> Principal:
    return _token(ctx, token, (kind,) if kind is not None else None)[0]


def check_session(ctx: ServiceContext, token: str, *, kinds: tuple[str, ...]) -> tuple[Principal, str]:
    """The user of a live session token of one of ``kinds``, and which kind it is."""
    return _token(ctx, token, kinds)


def issue_token(ctx: ServiceContext, login: str, password: str, *, kind: str = "bearer") -> tuple[str, dt.datetime]:
    principal = check_password(ctx, login, password)
    with ctx.db.begin() as conn:
        return tokens.issue(conn, principal.login, kind=kind, ttl_seconds=ctx.settings.token_ttl_seconds)


def open_session(
    ctx: ServiceContext, login: str, password: str, *, kind: str, ttl_seconds: int | None = None
) -> tuple[str, dt.datetime]:
    """A dialect session: a token of ``kind`` that lives ``ttl_seconds`` (by default
    ``session_ttl_seconds``) from now."""
    principal = check_password(ctx, login, password)
    with ctx.db.begin() as conn:
        return tokens.issue(
            conn, principal.login, kind=kind, ttl_seconds=ttl_seconds or ctx.settings.session_ttl_seconds
        )


def renew_session(ctx: ServiceContext, token: str, *, kind: str) -> dt.datetime:
    """Restart a live session's time; InvalidCredentials when it has ended or its user is disabled."""
    check_token(ctx, token, kind=kind)
    with ctx.db.begin() as conn:
        expires = tokens.extend(conn, token, kind=kind, ttl_seconds=ctx.settings.session_ttl_seconds)
    if expires is None:
        raise InvalidCredentials()
    return expires


def touch_session(ctx: ServiceContext, token: str, *, kind: str, ttl_seconds: int) -> Principal:
    """A live session's user, its time restarted to ``ttl_seconds`` from now (for sessions that end
    after a time idle). InvalidCredentials when it has ended, which the restart also finds out
    (a session ended elsewhere than in this process, after the check was cached). The restart is
    best-effort: while a long writer holds the database (a restore, on SQLite), the session keeps
    the expiry it has rather than the request waiting for the lock."""
    who = check_token(ctx, token, kind=kind)
    try:
        with ctx.db.begin_nowait() as conn:
            extended = tokens.extend(conn, token, kind=kind, ttl_seconds=ttl_seconds)
    except sa.exc.OperationalError:
        return who
    if extended is None:
        ctx.credentials.invalidate()
        raise InvalidCredentials()
    return who


def profile(ctx: ServiceContext, who: Principal) -> dict[str, str]:
    """What a user may see of their own account: login, display name and e-mail, never a hash."""
    with ctx.db.read() as conn:
        user = _users.find(conn, {"login": who.login}) or {}
    return {"login": who.login, "display_name": user.get("display_name") or "", "email": user.get("email") or ""}


def revoke_token(ctx: ServiceContext, token: str) -> None:
    with ctx.db.begin() as conn:
        tokens.revoke(conn, token)
