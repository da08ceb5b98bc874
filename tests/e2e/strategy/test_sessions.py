"""Strategy Library login and sessions against a real server on SQLite and PostgreSQL: login with
a JSON or a form body, the token in X-MSTR-AuthToken and the session cookie, session info,
renewal, logout, expiry, failed logins (ERR003), missing or ended sessions (ERR009), and no secret
ever shown, stored in clear or logged."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.builders import make_user
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.strategy.library import API, HEX32, login, session, strategy_error

SECRETS: set[str] = {ADMIN_PASSWORD, "Wr0ng-strategy-pw"}


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_login_gives_a_token_and_a_cookie(live_server: LiveServer, form: bool) -> None:
    token = login(live_server, form=form)
    SECRETS.add(token)
    with session(live_server, token) as s:
        info = s.get("/sessions").json()
        assert info["username"] == ADMIN and isinstance(info["timeout"], int) and info["timeout"] > 0
        assert HEX32.match(info["id"])
        user = s.get("/sessions/userInfo").json()
        assert user["id"] == info["id"] and user["username"] == ADMIN and user["fullName"]
    with live_server.anonymous() as anon:
        response = anon.post(f"{API}/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert response.status_code == 204
        SECRETS.add(response.headers["X-MSTR-AuthToken"])
        assert "JSESSIONID" in anon.cookies
        # The cookie alone carries the session, as it does for a browser or an SDK keeping cookies.
        assert anon.get(f"{API}/sessions").status_code == 200


def test_failed_logins_are_err003(live_server: LiveServer) -> None:
    with live_server.client() as admin:
        login_, _ = make_user(admin, "Viewer")
    with live_server.anonymous() as anon:
        for body in ({"username": ADMIN, "password": "Wr0ng-strategy-pw"}, {"username": "nobody", "password": "x"}):
            error = strategy_error(anon.post(f"{API}/auth/login", json=body), 401, "ERR003")
            assert "Wr0ng-strategy-pw" not in str(error)
        strategy_error(anon.post(f"{API}/auth/login", data={"username": login_, "password": "no"}), 401, "ERR003")


def test_bad_login_bodies_are_invalid_request(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        strategy_error(
            anon.post(f"{API}/auth/login", content=b"{not json", headers={"content-type": "application/json"}),
            400,
            "INVALID_REQUEST",
        )
        strategy_error(anon.post(f"{API}/auth/login", json={"password": "x"}), 400, "INVALID_REQUEST")
        strategy_error(anon.post(f"{API}/auth/login", json=["admin"]), 400, "INVALID_REQUEST")
        strategy_error(
            anon.post(f"{API}/auth/login", json={"username": ADMIN, "loginMode": "x"}), 400, "INVALID_REQUEST"
        )
        body = {"username": ADMIN, "password": ADMIN_PASSWORD, "loginMode": 16}
        error = strategy_error(anon.post(f"{API}/auth/login", json=body), 400, "INVALID_REQUEST")
        assert ADMIN_PASSWORD not in str(error)
        strategy_error(anon.post(f"{API}/auth/login"), 400, "INVALID_REQUEST")


def test_missing_or_unknown_session_is_err009(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        for path in ("/sessions", "/sessions/userInfo", "/projects"):
            strategy_error(anon.get(API + path), 401, "ERR009")
        strategy_error(anon.put(f"{API}/sessions"), 401, "ERR009")
        strategy_error(anon.post(f"{API}/auth/logout"), 401, "ERR009")
        strategy_error(anon.get(f"{API}/sessions", headers={"X-MSTR-AuthToken": "not-a-token"}), 401, "ERR009")
        # Other schemes are not Strategy's: HTTP Basic opens no Strategy session.
        strategy_error(anon.get(f"{API}/projects", auth=(ADMIN, ADMIN_PASSWORD)), 401, "ERR009")


def test_logout_ends_the_session(live_server: LiveServer) -> None:
    token = login(live_server)
    SECRETS.add(token)
    with session(live_server, token) as s:
        assert s.put("/sessions").status_code == 204
        response = s.post("/auth/logout")
        assert response.status_code == 204
        strategy_error(s.get("/sessions"), 401, "ERR009")
        strategy_error(s.put("/sessions"), 401, "ERR009")
        strategy_error(s.get("/projects"), 401, "ERR009")


def test_a_strategy_session_opens_no_other_dialect(live_server: LiveServer) -> None:
    token = login(live_server)
    SECRETS.add(token)
    with live_server.anonymous() as anon:
        assert anon.get("/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_no_secret_in_the_database_or_the_log(live_server: LiveServer) -> None:
    token = login(live_server)
    SECRETS.add(token)
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as conn:
            rows = [str(tuple(r)) for r in conn.execute(sa.text("SELECT * FROM tokens"))]
    finally:
        engine.dispose()
    assert rows
    log = live_server.log()
    for value in SECRETS:
        assert all(value not in row for row in rows)
        assert value not in log


def test_sessions_expire_and_renewal_extends_them(make_server: object) -> None:
    server: LiveServer = make_server(extra_env={"ENVCLONE_SESSION_TTL_SECONDS": "3"})  # type: ignore[operator]
    token = login(server)
    with session(server, token) as s:
        assert s.get("/sessions").json()["timeout"] == 3
        time.sleep(2)
        assert s.put("/sessions").status_code == 204
        time.sleep(2)
        assert s.get("/sessions").status_code == 200  # 4 s after login, 2 s after renewal
        time.sleep(3.5)
        strategy_error(s.get("/sessions"), 401, "ERR009")
        strategy_error(s.put("/sessions"), 401, "ERR009")
