"""Sessions that end after a time idle (services.authentication.touch_session, what the Veeam
dialect calls on every request): each use restarts the time, a session idle past it is gone, and
while another writer holds the database the use is not made to wait (the expiry stays as it
was). The clock is moved, not waited for."""

from __future__ import annotations

import datetime as dt
import time
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
KIND = "session:idle-test"
IDLE = 900


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    context, _ = build_context(load_settings(data_dir=tmp_path, admin_password=PASSWORD, scheduler=False))
    yield context
    context.engine.shutdown()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[dt.timedelta]:
    offset = [dt.timedelta(0)]
    monkeypatch.setattr(tokens, "utcnow", lambda: utcnow() + offset[0])
    return offset


def _expiry(ctx: ServiceContext) -> dt.datetime:
    with ctx.db.read() as conn:
        expires: dt.datetime = conn.execute(
            sa.select(tables.tokens.c.expires).where(tables.tokens.c.kind == KIND)
        ).scalar_one()
    return expires


def test_each_use_restarts_the_idle_time(ctx: ServiceContext, clock: list[dt.timedelta]) -> None:
    token, expires = authentication.open_session(ctx, "admin", PASSWORD, kind=KIND, ttl_seconds=IDLE)
    assert dt.timedelta(seconds=IDLE - 5) < expires - utcnow() <= dt.timedelta(seconds=IDLE)
    for _ in range(3):  # 3 x 10 minutes: longer than the idle time, never idle that long
        clock[0] += dt.timedelta(seconds=600)
        assert authentication.touch_session(ctx, token, kind=KIND, ttl_seconds=IDLE).login == "admin"
    assert _expiry(ctx) - (utcnow() + clock[0]) > dt.timedelta(seconds=IDLE - 5)
    clock[0] += dt.timedelta(seconds=IDLE + 1)
    with pytest.raises(InvalidCredentials):
        authentication.touch_session(ctx, token, kind=KIND, ttl_seconds=IDLE)


def test_a_held_database_does_not_make_a_use_wait(ctx: ServiceContext, clock: list[dt.timedelta]) -> None:
    token, _ = authentication.open_session(ctx, "admin", PASSWORD, kind=KIND, ttl_seconds=IDLE)
    before = _expiry(ctx)
    clock[0] += dt.timedelta(seconds=60)
    with ctx.db.begin() as writer:  # another writer holds SQLite's write lock
        writer.execute(tables.server_state.insert().values(key="held", value=True))
        started = time.monotonic()
        assert authentication.touch_session(ctx, token, kind=KIND, ttl_seconds=IDLE).login == "admin"
        assert time.monotonic() - started < 2.0
    assert _expiry(ctx) == before
    authentication.touch_session(ctx, token, kind=KIND, ttl_seconds=IDLE)
    assert _expiry(ctx) > before
