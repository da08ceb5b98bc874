"""Opaque bearer tokens and dialect sessions with expiry. The database keeps only a SHA-256 of
each token, so a leaked database does not leak live tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.store import tables
from envclone.store.database import note_change
from envclone.store.principals import SESSIONS_ENDED, end_sessions


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(conn: sa.Connection, login: str, *, kind: str, ttl_seconds: int) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl_seconds)
    conn.execute(tables.tokens.delete().where(tables.tokens.c.expires < now))
    conn.execute(
        tables.tokens.insert().values(token_hash=_digest(token), login=login, kind=kind, created=now, expires=expires)
    )
    return token, expires


def resolve(conn: sa.Connection, token: str, *, kind: str | None = None) -> str | None:
    """The login a live token belongs to, or None if unknown or expired."""
    found = lookup(conn, token, (kind,) if kind is not None else None)
    return found[0] if found is not None else None


def resolve_session(conn: sa.Connection, token: str, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """The login and kind of a live token of one of ``kinds`` (a dialect whose sessions come in
    variants, such as Strategy's per client application), or None if unknown or expired."""
    found = lookup(conn, token, kinds)
    return (found[0], found[1]) if found is not None else None


def lookup(conn: sa.Connection, token: str, kinds: tuple[str, ...] | None) -> tuple[str, str, dt.datetime] | None:
    """The login, kind and expiry of a live token (of one of ``kinds`` unless None), or None."""
    t = tables.tokens
    query = sa.select(t.c.login, t.c.kind, t.c.expires).where(t.c.token_hash == _digest(token), t.c.expires > utcnow())
    if kinds is not None:
        query = query.where(t.c.kind.in_(kinds))
    row = conn.execute(query).first()
    return (str(row.login), str(row.kind), row.expires) if row is not None else None


def live(expires: dt.datetime) -> bool:
    """Whether a token expiring at ``expires`` (as stored) is still live: the clock lookup uses."""
    return expires > utcnow()


def revoke(conn: sa.Connection, token: str) -> bool:
    note_change(conn, SESSIONS_ENDED)
    return bool(conn.execute(tables.tokens.delete().where(tables.tokens.c.token_hash == _digest(token))).rowcount)


def extend(conn: sa.Connection, token: str, *, kind: str, ttl_seconds: int) -> dt.datetime | None:
    """Push a live token's expiry to ``ttl_seconds`` from now; None if it is unknown or expired."""
    t = tables.tokens
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl_seconds)
    live = sa.and_(t.c.token_hash == _digest(token), t.c.kind == kind, t.c.expires > now)
    return expires if conn.execute(t.update().where(live).values(expires=expires)).rowcount else None


def revoke_user(conn: sa.Connection, login: str) -> int:
    """End every token and dialect session of ``login`` (receipts excepted); how many there were.
    Called when its password changes or it is disabled, re-enabled or deleted."""
    return end_sessions(conn, [login])
