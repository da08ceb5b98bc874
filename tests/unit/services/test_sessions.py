"""Dialect sessions (services.authentication): a session lives session_ttl_seconds from login or
its last renewal, a renewal after the end does not revive it, and a disabled user's session is
neither usable nor renewable. The clock is moved, not waited for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from envclone.auth import tokens
from envclone.domain.clock import utcnow
from envclone.errors import InvalidCredentials
from envclone.server import build_context
from envclone.services import authentication
from envclone.services.context import ServiceContext
from envclone.settings import load_settings
from envclone.store import tables

PASSWORD = "pw-123456"
KIND = "session:test"
TTL = 600


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    context, _ = build_context(
        load_settings(data_dir=tmp_path, admin_password=PASSWORD, scheduler=False, session_ttl_seconds=TTL)
    )
    yield context
    context.engine.shutdown()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[dt.timedelta]:
    """Add to ``clock[0]`` to move the tokens' clock forward."""
    offset = [dt.timedelta(0)]
    monkeypatch.setattr(tokens, "utcnow", lambda: utcnow() + offset[0])
    return offset


def test_a_session_ends_ttl_after_login(ctx: ServiceContext, clock: list[dt.timedelta]) -> None:
    token, expires = authentication.open_session(ctx, "admin", PASSWORD, kind=KIND)
    assert dt.timedelta(seconds=TTL - 5) < expires - utcnow() <= dt.timedelta(seconds=TTL)
    clock[0] = dt.timedelta(seconds=TTL - 10)
    assert authentication.check_token(ctx, token, kind=KIND).login == "admin"
    clock[0] = dt.timedelta(seconds=TTL + 1)
    with pytest.raises(InvalidCredentials):
        authentication.check_token(ctx, token, kind=KIND)
    with pytest.raises(InvalidCredentials):
        authentication.renew_session(ctx, token, kind=KIND)


def test_renewal_restarts_the_time(ctx: ServiceContext, clock: list[dt.timedelta]) -> None:
    token, _ = authentication.open_session(ctx, "admin", PASSWORD, kind=KIND)
    clock[0] = dt.timedelta(seconds=TTL - 10)
    authentication.renew_session(ctx, token, kind=KIND)
    clock[0] = dt.timedelta(seconds=2 * TTL - 20)
    assert authentication.check_token(ctx, token, kind=KIND).login == "admin"
    with pytest.raises(InvalidCredentials):
        authentication.renew_session(ctx, token, kind="another kind")


def test_a_disabled_users_session_is_not_renewed(ctx: ServiceContext) -> None:
    token, _ = authentication.open_session(ctx, "admin", PASSWORD, kind=KIND)
    with ctx.db.begin() as conn:
        conn.execute(sa.update(tables.users).where(tables.users.c.login == "admin").values(enabled=False))
    with pytest.raises(InvalidCredentials):
        authentication.renew_session(ctx, token, kind=KIND)


def test_a_wrong_password_opens_no_session(ctx: ServiceContext) -> None:
    with pytest.raises(InvalidCredentials):
        authentication.open_session(ctx, "admin", "wrong", kind=KIND)
