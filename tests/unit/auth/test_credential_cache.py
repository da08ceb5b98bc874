"""The cache of checked credentials: a client that proved itself costs no Argon2 and no query
within the TTL; a password change, a disable, a delete, a role change or a token revoked empties it
at once; a check that read the database before a revocation cannot put its stale answer back; the
login throttle still holds; nothing secret is kept in clear."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envclone.auth.credential_cache import CredentialCache
from envclone.domain.clock import utcnow
from envclone.domain.principal import Principal
from envclone.errors import InvalidCredentials, TooManyAttempts
from envclone.services import authentication, resource
from envclone.services.content_resources import ROLE_ASSIGNMENTS, USERS
from envclone.services.context import ServiceContext
from tests.builders import make_context, sql_statements

ADMIN_PASSWORD = "pw-123456"
HOUR_AHEAD = utcnow() + dt.timedelta(hours=1)
PASSWORD = "Cache-me-1f-you-can"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = make_context(tmp_path)
    yield ctx
    ctx.engine.shutdown()
    ctx.db.dispose()


@pytest.fixture
def hashings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 verification the login service runs (the real one, counted)."""
    calls: list[str] = []
    real = authentication.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(authentication, "verify_password", counted)
    return calls


@pytest.fixture
def queries(ctx: ServiceContext) -> Iterator[list[str]]:
    """Every SQL statement sent to the environment's database."""
    with sql_statements(ctx.db.engine) as sent:
        yield sent


def admin(ctx: ServiceContext) -> Principal:
    return authentication.check_password(ctx, "admin", ADMIN_PASSWORD)


def make_user(ctx: ServiceContext, login: str = "poller", role: str = "Service Administrator") -> None:
    resource.create_item(ctx, admin(ctx), USERS, {"login": login, "password": PASSWORD})
    assignment = {"principal_kind": "user", "principal_name": login, "role_name": role}
    resource.create_item(ctx, admin(ctx), ROLE_ASSIGNMENTS, assignment)


def test_basic_credentials_are_hashed_once_within_the_ttl(
    ctx: ServiceContext, hashings: list[str], queries: list[str]
) -> None:
    make_user(ctx)
    hashings.clear()
    first = authentication.check_password(ctx, "poller", PASSWORD)
    assert hashings == [PASSWORD]
    queries.clear()
    for _ in range(20):
        assert authentication.check_password(ctx, "poller", PASSWORD) == first
        assert authentication.cached_password(ctx, "poller", PASSWORD) == first
    assert hashings == [PASSWORD]  # Argon2 ran once
    assert queries == []  # and the database was not asked again


def test_a_wrong_password_is_never_answered_from_the_cache(ctx: ServiceContext, hashings: list[str]) -> None:
    make_user(ctx)
    authentication.check_password(ctx, "poller", PASSWORD)
    assert authentication.cached_password(ctx, "poller", PASSWORD + "x") is None
    with pytest.raises(InvalidCredentials):
        authentication.check_password(ctx, "poller", PASSWORD + "x")
    assert authentication.cached_password(ctx, "admin", PASSWORD) is None  # another user, same password


def test_tokens_are_checked_once_within_the_ttl(ctx: ServiceContext, queries: list[str]) -> None:
    make_user(ctx)
    token, _ = authentication.issue_token(ctx, "poller", PASSWORD)
    who = authentication.check_token(ctx, token, kind="bearer")
    queries.clear()
    assert authentication.check_token(ctx, token, kind="bearer") == who
    assert authentication.cached_token(ctx, token, ("bearer",)) == (who, "bearer")
    assert queries == []
    # A token of one kind does not open another kind's door, cached or not.
    assert authentication.cached_token(ctx, token, ("strategy-session",)) is None
    with pytest.raises(InvalidCredentials):
        authentication.check_session(ctx, token, kinds=("strategy-session",))


def test_a_cached_token_ends_with_the_token(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(ctx)
    token, expires = authentication.issue_token(ctx, "poller", PASSWORD)
    authentication.check_token(ctx, token, kind="bearer")
    assert authentication.cached_token(ctx, token, ("bearer",)) is not None
    later = expires + dt.timedelta(seconds=1)
    monkeypatch.setattr(authentication.tokens, "utcnow", lambda: later)  # time passes, not the cache's TTL
    assert authentication.cached_token(ctx, token, ("bearer",)) is None
    with pytest.raises(InvalidCredentials):
        authentication.check_token(ctx, token, kind="bearer")


Revocation = Callable[[ServiceContext], None]


def change_password(ctx: ServiceContext) -> None:
    resource.update_item(ctx, admin(ctx), USERS, {"login": "poller"}, {"password": "N3w-" + PASSWORD})


def disable(ctx: ServiceContext) -> None:
    resource.update_item(ctx, admin(ctx), USERS, {"login": "poller"}, {"enabled": False})


def delete(ctx: ServiceContext) -> None:
    resource.delete_item(ctx, admin(ctx), USERS, {"login": "poller"})


@pytest.mark.parametrize("revoke", [change_password, disable, delete], ids=lambda f: f.__name__)
def test_a_revocation_empties_the_cache_at_once(ctx: ServiceContext, hashings: list[str], revoke: Revocation) -> None:
    make_user(ctx)
    authentication.check_password(ctx, "poller", PASSWORD)
    token, _ = authentication.issue_token(ctx, "poller", PASSWORD)
    authentication.check_token(ctx, token, kind="bearer")
    assert authentication.cached_password(ctx, "poller", PASSWORD) is not None
    revoke(ctx)
    assert len(ctx.credentials) == 0
    assert authentication.cached_password(ctx, "poller", PASSWORD) is None
    assert authentication.cached_token(ctx, token, ("bearer",)) is None
    hashings.clear()
    with pytest.raises(InvalidCredentials):
        authentication.check_password(ctx, "poller", PASSWORD)
    with pytest.raises(InvalidCredentials):
        authentication.check_token(ctx, token, kind="bearer")


def test_a_revoked_token_is_refused_at_once(ctx: ServiceContext) -> None:
    make_user(ctx)
    token, _ = authentication.issue_token(ctx, "poller", PASSWORD)
    other, _ = authentication.issue_token(ctx, "poller", PASSWORD)
    authentication.check_token(ctx, token, kind="bearer")
    authentication.revoke_token(ctx, token)
    with pytest.raises(InvalidCredentials):
        authentication.check_token(ctx, token, kind="bearer")
    assert authentication.check_token(ctx, other, kind="bearer").login == "poller"


def test_a_role_taken_away_counts_at_once(ctx: ServiceContext) -> None:
    make_user(ctx, role="Viewer")
    assert "Viewer" in authentication.check_password(ctx, "poller", PASSWORD).roles
    key = {"principal_kind": "user", "principal_name": "poller", "role_name": "Viewer"}
    resource.delete_item(ctx, admin(ctx), ROLE_ASSIGNMENTS, key)
    assert "Viewer" not in authentication.check_password(ctx, "poller", PASSWORD).roles


def test_a_rolled_back_change_keeps_the_cache(ctx: ServiceContext) -> None:
    make_user(ctx)
    authentication.check_password(ctx, "poller", PASSWORD)
    with pytest.raises(RuntimeError), ctx.db.begin() as conn:
        authentication.tokens.revoke_user(conn, "poller")
        raise RuntimeError("rolled back")
    assert authentication.cached_password(ctx, "poller", PASSWORD) is not None
    with ctx.db.begin():  # the next transaction on that connection does not inherit the note
        pass
    assert authentication.cached_password(ctx, "poller", PASSWORD) is not None


def test_the_throttle_holds_for_cached_credentials(ctx: ServiceContext) -> None:
    make_user(ctx)
    authentication.check_password(ctx, "poller", PASSWORD)
    for _ in range(ctx.settings.login_lock_failures):
        ctx.logins.failed("poller", "")
    with pytest.raises(TooManyAttempts):
        authentication.cached_password(ctx, "poller", PASSWORD)
    with pytest.raises(TooManyAttempts):
        authentication.check_password(ctx, "poller", PASSWORD)


def test_entries_end_with_the_ttl() -> None:
    clock = Clock()
    cache = CredentialCache(ttl=5, proof_ttl=60, clock=clock)
    who = Principal.of("u", {"Viewer"})
    cache.remember_password("u", "pw", who, cache.epoch)
    cache.remember_token("long", who, "bearer", HOUR_AHEAD, cache.epoch)
    cache.remember_proof("$argon2id$hash", "pw", cache.epoch)
    clock.now += 4
    assert cache.token("long") is not None and cache.password("u", "pw") == who
    clock.now += 1
    assert cache.token("long") is None and cache.password("u", "pw") is None
    assert cache.proven("$argon2id$hash", "pw")  # bound to the hash, so it may live longer
    clock.now += 55
    assert not cache.proven("$argon2id$hash", "pw")


def test_a_check_that_read_before_a_revocation_is_not_kept() -> None:
    cache = CredentialCache()
    who = Principal.of("u", {"Viewer"})
    epoch = cache.epoch  # a check reads the database...
    cache.invalidate()  # ...a revocation commits meanwhile...
    cache.remember_password("u", "pw", who, epoch)  # ...and its answer, now stale, comes back
    cache.remember_token("t", who, "bearer", HOUR_AHEAD, epoch)
    assert cache.password("u", "pw") is None and cache.token("t") is None


def test_nothing_is_kept_in_clear() -> None:
    cache = CredentialCache()
    who = Principal.of("user", {"Viewer"})
    cache.remember_password("user", "s3cret-password", who, cache.epoch)
    cache.remember_token("s3cret-token", who, "bearer", HOUR_AHEAD, cache.epoch)
    held = repr(vars(cache))
    assert "s3cret" not in held and b"s3cret".hex() not in held
    # Keys cannot be confused across the separator: ("a", "b:c") is not ("a:b", "c").
    cache.remember_password("a", "b:c", who, cache.epoch)
    assert cache.password("a:b", "c") is None
