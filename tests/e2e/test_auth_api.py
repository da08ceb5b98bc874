"""Authentication and authorization over real HTTP, on SQLite and PostgreSQL: HTTP Basic, OAuth 2.0
bearer tokens (issue, use, revoke, expiry), refusals that leave the environment unchanged, role
checks per role (directly and through nested groups), and passwords never shown or logged."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from envclone.auth.credential_cache import CredentialCache
from tests import builders
from tests.builders import tag
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.client import digest, error_of, ok

# Every password and token this module sends; none may appear in the server log.
SECRETS: set[str] = {ADMIN_PASSWORD, "wrong-Passw0rd-91", "whatever-Passw0rd-92", "anything-Passw0rd-93"}


def secret() -> str:
    value = f"S3cret-{uuid.uuid4().hex}"
    SECRETS.add(value)
    return value


@pytest.fixture(scope="module")
def admin(http: httpx.Client) -> httpx.Client:
    return http


def make_user(admin: httpx.Client, *roles: str, enabled: bool = True) -> tuple[str, str]:
    # Every password goes through secret(), so that the log check looks for it.
    return builders.make_user(admin, *roles, password=secret(), enabled=enabled)


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def issue(server: LiveServer, login: str, password: str) -> str:
    with server.anonymous() as anon:
        body = ok(anon.post("/v1/auth/token", data={"grant_type": "password", "username": login, "password": password}))
    token = body["access_token"]
    assert isinstance(token, str)
    SECRETS.add(token)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(
    admin: httpx.Client, response_of: Callable[[], httpx.Response], status: int, code: str
) -> httpx.Response:
    """Send a request that must be refused; the environment digest must not move."""
    before = digest(admin)
    response = response_of()
    assert error_of(response) == (status, code), response.text
    assert response.json()["error"]["message"]
    assert digest(admin) == before
    return response


# --- who may call at all -------------------------------------------------------------------------
def _every_v1_operation(server: LiveServer) -> list[tuple[str, str]]:
    with server.anonymous() as anon:
        spec = ok(anon.get("/openapi.json"))
    operations: list[tuple[str, str]] = []
    for path, methods in spec["paths"].items():
        if path.startswith("/v1/") and path != "/v1/auth/token":
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            operations.extend((method.upper(), concrete) for method in methods)
    return operations


def test_every_v1_endpoint_requires_credentials(live_server: LiveServer, admin: httpx.Client) -> None:
    operations = _every_v1_operation(live_server)
    assert len(operations) > 50  # the CRUD routes of every resource, plus the rest
    before = digest(admin)
    with live_server.anonymous() as anon:
        for method, path in operations:
            response = anon.request(method, path, json={"name": "x"} if method in ("POST", "PATCH", "PUT") else None)
            assert error_of(response) == (401, "not_authenticated"), f"{method} {path}: {response.text}"
            challenge = response.headers["www-authenticate"]
            assert "Basic" in challenge and "Bearer" in challenge
    assert digest(admin) == before


@pytest.mark.parametrize(
    "header",
    [
        "Digest username=admin",
        "Basic",
        "Bearer",
        "",
    ],
)
def test_unsupported_or_empty_authorization_is_401(live_server: LiveServer, admin: httpx.Client, header: str) -> None:
    with live_server.anonymous() as anon:
        response = anon.get("/v1/projects", headers={"Authorization": header})
    assert error_of(response) == (401, "not_authenticated")
    assert "Basic" in response.headers["www-authenticate"]


def test_wrong_password_and_unknown_user_look_the_same(live_server: LiveServer, admin: httpx.Client) -> None:
    login, _password = make_user(admin, "Viewer")
    with live_server.anonymous() as anon:
        wrong = assert_refused(
            admin, lambda: anon.get("/v1/projects", headers=basic(login, secret())), 401, "invalid_credentials"
        )
        unknown = assert_refused(
            admin,
            lambda: anon.get("/v1/projects", headers=basic(f"nobody-{tag()}", secret())),
            401,
            "invalid_credentials",
        )
        admin_wrong = anon.post("/v1/projects", json={"name": tag()}, headers=basic("admin", secret()))
    assert wrong.json() == unknown.json()
    assert error_of(admin_wrong) == (401, "invalid_credentials")
    assert "www-authenticate" in wrong.headers


@pytest.mark.parametrize(
    "value",
    [
        "!!!not-base64!!!",
        base64.b64encode(b"no-colon-here").decode(),
        base64.b64encode(b"\xff\xfe:\xfd").decode(),
        base64.b64encode(b"admin:" + ADMIN_PASSWORD.encode()).decode()[:-3],
    ],
    ids=["not-base64", "no-colon", "not-utf8", "truncated"],
)
def test_malformed_basic_header(live_server: LiveServer, admin: httpx.Client, value: str) -> None:
    with live_server.anonymous() as anon:
        assert_refused(
            admin,
            lambda: anon.get("/v1/projects", headers={"Authorization": f"Basic {value}"}),
            401,
            "invalid_credentials",
        )


# --- bearer tokens -------------------------------------------------------------------------------
def test_token_issue_use_and_revoke(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Power User")
    with live_server.anonymous() as anon:
        form = ok(anon.post("/v1/auth/token", data={"grant_type": "password", "username": login, "password": password}))
        as_json = ok(
            anon.post("/v1/auth/token", json={"grant_type": "password", "username": login, "password": password})
        )
        for body in (form, as_json):
            assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
            expires = dt.datetime.fromisoformat(body["expires_at"])
            expected = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
            assert abs((expires - expected).total_seconds()) < 120
            SECRETS.add(body["access_token"])
        first, second = form["access_token"], as_json["access_token"]
        assert first != second
        assert ok(anon.get("/v1/auth/whoami", headers=bearer(first)))["login"] == login
        created = ok(anon.post("/v1/projects", json={"name": f"by-token-{tag()}"}, headers=bearer(first)), 201)
        assert created["name"].startswith("by-token-")

        assert anon.post("/v1/auth/revoke", headers=bearer(first)).status_code == 204
        assert_refused(admin, lambda: anon.get("/v1/projects", headers=bearer(first)), 401, "invalid_credentials")
        assert ok(anon.get("/v1/auth/whoami", headers=bearer(second)))["login"] == login  # others still live
        assert_refused(admin, lambda: anon.get("/v1/projects", headers=bearer(first + "x")), 401, "invalid_credentials")
        assert_refused(admin, lambda: anon.get("/v1/projects", headers=bearer(secret())), 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"grant_type": "password", "username": "admin", "password": "wrong-Passw0rd-91"}, 401, "invalid_credentials"),
        (
            {"grant_type": "password", "username": "no-such-user", "password": "whatever-Passw0rd-92"},
            401,
            "invalid_credentials",
        ),
        ({"grant_type": "client_credentials", "username": "admin", "password": ADMIN_PASSWORD}, 422, "invalid_request"),
        ({"grant_type": "password", "username": "admin"}, 422, "invalid_request"),
        ({"grant_type": "password", "username": "admin", "password": ""}, 422, "invalid_request"),
    ],
    ids=["wrong-password", "unknown-user", "wrong-grant", "no-password", "empty-password"],
)
def test_token_refusals(
    live_server: LiveServer, admin: httpx.Client, body: dict[str, str], status: int, code: str
) -> None:
    with live_server.anonymous() as anon:
        assert_refused(admin, lambda: anon.post("/v1/auth/token", data=body), status, code)
        assert_refused(admin, lambda: anon.post("/v1/auth/token", json=body), status, code)


def test_token_request_malformed_json(live_server: LiveServer, admin: httpx.Client) -> None:
    with live_server.anonymous() as anon:
        assert_refused(
            admin,
            lambda: anon.post(
                "/v1/auth/token", content=b'{"username": "admin",', headers={"content-type": "application/json"}
            ),
            400,
            "malformed_json",
        )


def test_expired_token_is_refused(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Viewer")
    token = issue(live_server, login, password)
    with live_server.anonymous() as anon:
        assert ok(anon.get("/v1/auth/whoami", headers=bearer(token)))["login"] == login
        engine = sa.create_engine(live_server.database_url)
        try:
            with engine.begin() as conn:
                past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
                result = conn.execute(
                    sa.text("UPDATE tokens SET expires = :past WHERE login = :login"), {"past": past, "login": login}
                )
                assert result.rowcount == 1
        finally:
            engine.dispose()
        # Changed behind the server's back (not by time passing, which a cached check honours to the
        # second): seen once the server's cache of checked tokens lets the entry go, within its TTL.
        deadline = time.monotonic() + CredentialCache().ttl + 2
        while anon.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert_refused(admin, lambda: anon.get("/v1/auth/whoami", headers=bearer(token)), 401, "invalid_credentials")
        fresh = issue(live_server, login, password)
        assert ok(anon.get("/v1/auth/whoami", headers=bearer(fresh)))["login"] == login


def test_token_stops_working_when_the_user_is_disabled(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Viewer")
    token = issue(live_server, login, password)
    ok(admin.patch(f"/v1/users/{login}", json={"enabled": False}))
    with live_server.anonymous() as anon:
        assert error_of(anon.get("/v1/projects", headers=bearer(token))) == (401, "invalid_credentials")
        # Enabling the user again revives no token issued before (issue 10); a new one works.
        ok(admin.patch(f"/v1/users/{login}", json={"enabled": True}))
        assert error_of(anon.get("/v1/projects", headers=bearer(token))) == (401, "invalid_credentials")
        assert ok(anon.get("/v1/projects", headers=bearer(issue(live_server, login, password))))["total"] >= 0


# --- users that cannot log in --------------------------------------------------------------------
def test_disabled_user_cannot_log_in(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Service Administrator", enabled=False)
    with live_server.client(login, password) as http:
        assert_refused(admin, lambda: http.get("/v1/projects"), 401, "invalid_credentials")
        assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 401, "invalid_credentials")
        with live_server.anonymous() as anon:
            form = {"grant_type": "password", "username": login, "password": password}
            assert_refused(admin, lambda: anon.post("/v1/auth/token", data=form), 401, "invalid_credentials")
        ok(admin.patch(f"/v1/users/{login}", json={"enabled": True}))
        assert ok(http.get("/v1/auth/whoami"))["login"] == login
        ok(admin.patch(f"/v1/users/{login}", json={"enabled": False}))
        # A recently verified password must not outlive the account being disabled.
        assert error_of(http.get("/v1/auth/whoami")) == (401, "invalid_credentials")


def test_changed_password_replaces_the_old_one(live_server: LiveServer, admin: httpx.Client) -> None:
    login, old = make_user(admin, "Viewer")
    with live_server.client(login, old) as http:
        assert ok(http.get("/v1/auth/whoami"))["login"] == login  # also caches the old password
    new = secret()
    ok(admin.patch(f"/v1/users/{login}", json={"password": new}))
    with live_server.client(login, old) as http:
        assert error_of(http.get("/v1/auth/whoami")) == (401, "invalid_credentials")
    with live_server.client(login, new) as http:
        assert ok(http.get("/v1/auth/whoami"))["login"] == login


def test_user_without_password_cannot_log_in(live_server: LiveServer, admin: httpx.Client) -> None:
    login = f"nopw-{tag()}"
    created = ok(admin.post("/v1/users", json={"login": login}), 201)
    assert created["has_password"] is False
    ok(
        admin.post(
            "/v1/role-assignments", json={"principal_kind": "user", "principal_name": login, "role_name": "Viewer"}
        ),
        201,
    )
    with live_server.client(login, "anything-Passw0rd-93") as http:
        assert error_of(http.get("/v1/projects")) == (401, "invalid_credentials")


# --- roles ---------------------------------------------------------------------------------------
def test_viewer_reads_but_cannot_write(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Viewer")
    project = ok(admin.post("/v1/projects", json={"name": f"viewed-{tag()}"}), 201)
    with live_server.client(login, password) as http:
        assert ok(http.get("/v1/auth/whoami"))["roles"] == ["Viewer"]
        assert ok(http.get(f"/v1/projects/{project['id']}")) == project
        ok(http.get("/v1/environment/digest"))
        ok(http.get("/v1/settings"))
        ok(http.get("/v1/records/jobConsole"))
        ok(http.get("/v1/files/inbox"))
        refused = assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 403, "forbidden")
        assert "Power User" in refused.json()["error"]["message"]
        assert_refused(
            admin, lambda: http.patch(f"/v1/projects/{project['id']}", json={"name": tag()}), 403, "forbidden"
        )
        assert_refused(admin, lambda: http.delete(f"/v1/projects/{project['id']}"), 403, "forbidden")
        assert_refused(admin, lambda: http.put(f"/v1/files/inbox/{tag()}", content=b"x"), 403, "forbidden")
        assert_refused(admin, lambda: http.post("/v1/records/jobConsole", json={"items": [{}]}), 403, "forbidden")
        assert_refused(admin, lambda: http.get("/v1/users"), 403, "forbidden")
        assert_refused(admin, lambda: http.patch("/v1/settings", json={"theme": "x"}), 403, "forbidden")
    assert ok(admin.get(f"/v1/projects/{project['id']}")) == project


def test_power_user_writes_content_but_not_users_or_settings(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Power User")
    with live_server.client(login, password) as http:
        assert set(ok(http.get("/v1/auth/whoami"))["roles"]) == {"Power User", "User", "Viewer"}
        project = ok(http.post("/v1/projects", json={"name": f"pu-{tag()}"}), 201)
        ok(http.patch(f"/v1/projects/{project['id']}", json={"description": "mine"}))
        ok(http.put(f"/v1/files/outbox/pu-{tag()}", content=b"data"), 201)
        user = {"login": f"x-{tag()}", "password": secret()}
        assert_refused(admin, lambda: http.post("/v1/users", json=user), 403, "forbidden")
        assignment = {"principal_kind": "user", "principal_name": login, "role_name": "Service Administrator"}
        assert_refused(admin, lambda: http.post("/v1/role-assignments", json=assignment), 403, "forbidden")
        assert_refused(admin, lambda: http.post("/v1/groups", json={"name": tag()}), 403, "forbidden")
        assert_refused(admin, lambda: http.patch("/v1/settings", json={"theme": tag()}), 403, "forbidden")
        assert_refused(admin, lambda: http.put("/v1/settings/images/logo", content=b"img"), 403, "forbidden")
        assert http.delete(f"/v1/projects/{project['id']}").status_code == 204


def test_plain_user_reads_only(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "User")
    with live_server.client(login, password) as http:
        assert set(ok(http.get("/v1/auth/whoami"))["roles"]) == {"User", "Viewer"}
        ok(http.get("/v1/projects"))
        assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 403, "forbidden")


def test_migrations_administer_can_read(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Migrations - Administer")
    with live_server.client(login, password) as http:
        assert ok(http.get("/v1/auth/whoami"))["roles"] == ["Migrations - Administer"]
        ok(http.get("/v1/projects"))
        ok(http.get("/v1/environment/digest"))
        ok(http.get("/v1/configuration-objects"))
        assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 403, "forbidden")
        assert_refused(admin, lambda: http.get("/v1/users"), 403, "forbidden")


def test_identity_domain_administrator_manages_users_only(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin, "Identity Domain Administrator")
    with live_server.client(login, password) as http:
        new_login = f"by-ida-{tag()}"
        ok(http.post("/v1/users", json={"login": new_login, "password": secret()}), 201)
        ok(
            http.post(
                "/v1/role-assignments",
                json={"principal_kind": "user", "principal_name": new_login, "role_name": "Viewer"},
            ),
            201,
        )
        assert ok(http.get("/v1/users", params={"login__prefix": new_login}))["total"] == 1
        assert_refused(admin, lambda: http.get("/v1/projects"), 403, "forbidden")
        assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 403, "forbidden")


def test_user_with_no_roles_is_forbidden_everywhere(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin)
    with live_server.client(login, password) as http:
        assert ok(http.get("/v1/auth/whoami")) == {"login": login, "roles": []}
        for path in (
            "/v1/projects",
            "/v1/environment/digest",
            "/v1/settings",
            "/v1/files/inbox",
            "/v1/records/jobConsole",
            "/v1/roles",
        ):
            assert_refused(admin, functools.partial(http.get, path), 403, "forbidden")


def test_roles_through_nested_groups(live_server: LiveServer, admin: httpx.Client) -> None:
    login, password = make_user(admin)
    outer, inner = f"outer-{tag()}", f"inner-{tag()}"
    ok(admin.post("/v1/groups", json={"name": outer}), 201)
    ok(admin.post("/v1/groups", json={"name": inner}), 201)
    ok(admin.post(f"/v1/groups/{inner}/members", json={"member_kind": "user", "member_name": login}), 201)
    ok(admin.post(f"/v1/groups/{outer}/members", json={"member_kind": "group", "member_name": inner}), 201)
    ok(
        admin.post(
            "/v1/role-assignments", json={"principal_kind": "group", "principal_name": outer, "role_name": "Power User"}
        ),
        201,
    )
    # A cycle in the nesting must not hang role resolution.
    ok(admin.post(f"/v1/groups/{inner}/members", json={"member_kind": "group", "member_name": outer}), 201)
    with live_server.client(login, password) as http:
        assert "Power User" in ok(http.get("/v1/auth/whoami"))["roles"]
        ok(http.post("/v1/projects", json={"name": f"via-group-{tag()}"}), 201)
        assert admin.delete(f"/v1/groups/{outer}/members/group/{inner}").status_code == 204
        assert ok(http.get("/v1/auth/whoami"))["roles"] == []
        assert_refused(admin, lambda: http.post("/v1/projects", json={"name": tag()}), 403, "forbidden")


# --- secrecy (keep last: it checks the log of everything above) ----------------------------------
def test_passwords_are_never_returned(live_server: LiveServer, admin: httpx.Client) -> None:
    password = secret()
    login = f"quiet-{tag()}"
    responses = [
        admin.post("/v1/users", json={"login": login, "password": password, "display_name": "Q"}),
        admin.get(f"/v1/users/{login}"),
        admin.get("/v1/users", params={"limit": 1000}),
        admin.patch(f"/v1/users/{login}", json={"password": secret()}),
        admin.post("/v1/users/batch", json={"items": [{"login": f"quiet2-{tag()}", "password": secret()}]}),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert "argon2" not in response.text
        assert not any(s in response.text for s in SECRETS)
    for user in ok(admin.get("/v1/users", params={"limit": 1000}))["items"]:
        assert not {"password", "password_hash"} & set(user)
        assert isinstance(user["has_password"], bool)


def test_no_password_or_token_in_the_server_log(live_server: LiveServer) -> None:
    log = live_server.log()
    assert "Uvicorn" in log or "envclone" in log  # the log is the server's
    leaked = sorted(s for s in SECRETS if s in log)
    assert leaked == []
    assert "$argon2" not in log
