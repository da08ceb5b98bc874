"""Enterprise Manager's entry point and logon sessions against a real server on SQLite and
PostgreSQL: GET /api/ without a session, logon with HTTP Basic (201, the id in X-RestSvcSessionId
and a cookie, a LogonSession body), the cookie winning over the header, failed logons (401 with
the RestSvc Basic challenge), logoff, a 15-minute idle time restarted by each request, expiry,
the ``v`` parameter everywhere, and a Veeam session opening no other dialect."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
import sqlalchemy as sa

from envclone.api.veeam.auth import SESSION_KIND, session_id
from envclone.store.tables import tokens
from tests.builders import make_user
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.veeam.em import API, HEADER, JSON, Q, em, links, log_on, text, veeam_error, xml

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _expiries(server: LiveServer) -> list[dt.datetime]:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            query = sa.select(tokens.c.expires).where(tokens.c.kind == SESSION_KIND).order_by(tokens.c.expires)
            return list(conn.execute(query).scalars())
    finally:
        engine.dispose()


def _expire_all(server: LiveServer) -> None:
    """Every Veeam session's idle time runs out now (as 15 minutes without a request would)."""
    engine = sa.create_engine(server.database_url)
    try:
        with engine.begin() as conn:
            past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
            conn.execute(tokens.update().where(tokens.c.kind == SESSION_KIND).values(expires=past))
    finally:
        engine.dispose()


@pytest.mark.parametrize("accept", [None, "application/xml", "application/json"])
def test_the_entry_point_needs_no_session(live_server: LiveServer, accept: str | None) -> None:
    with live_server.anonymous() as anon:
        response = anon.get(f"{API}/", headers={"Accept": accept} if accept else {})
    if accept == "application/json":
        body = response.json()
        assert response.status_code == 200 and body["Type"] == "EnterpriseManager", body
        versions = body["SupportedVersions"]
        logon = body["Links"]
    else:
        root = xml(response)
        assert root.tag == f"{Q}EnterpriseManager"
        versions = [{"Name": v.get("Name"), "Links": links(v)} for v in root.iter(f"{Q}SupportedVersion")]
        logon = links(root)
    assert logon == [{"Rel": "Create", "Href": f"{live_server.url}/api/sessionMngr/?v=latest", "Type": "LogonSession"}]
    assert versions and all(v["Links"][0]["Href"].endswith(f"?v={v['Name']}") for v in versions)


def test_logon_gives_a_session_header_cookie_and_body(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        response = anon.post(f"{API}/sessionMngr/?v=latest", auth=(ADMIN, ADMIN_PASSWORD))
        root = xml(response, 201)
        token = response.headers[HEADER]
        assert anon.cookies[HEADER] == token
        assert root.tag == f"{Q}LogonSession" and root.get("Type") == "LogonSession"
        session = text(root, "SessionId")
        assert session and UUID.match(session) and session not in token and token not in response.text
        assert text(root, "UserName") == ADMIN
        href = f"{live_server.url}/api/logonSessions/{session}"
        assert root.get("Href") == href
        assert {"Rel": "Delete", "Href": href, "Type": "LogonSession"} in links(root)
        # The cookie alone carries the session, as it does for a client that keeps cookies.
        assert xml(anon.get(f"{API}/jobs")).tag == f"{Q}EntityReferences"
    with live_server.anonymous() as anon:
        body = anon.post(f"{API}/sessionMngr/", params={"v": "v1_7"}, auth=(ADMIN, ADMIN_PASSWORD), headers=JSON)
        assert body.status_code == 201 and body.json()["Type"] == "LogonSession"
        assert UUID.match(body.json()["SessionId"]) and body.json()["UserName"] == ADMIN


def test_the_cookie_wins_over_the_header(live_server: LiveServer) -> None:
    good, other = log_on(live_server), log_on(live_server)
    with httpx.Client(base_url=live_server.url + API, timeout=60) as raw:
        both = {HEADER: "not-a-session", "Cookie": f"{HEADER}={good}"}
        assert raw.get("/jobs", headers=both).status_code == 200
        veeam_error(raw.get("/jobs", headers={HEADER: good, "Cookie": f"{HEADER}=not-a-session"}), 401)
        # Both valid and different: the cookie's session is the one the request belongs to.
        mine = raw.get(f"/logonSessions/{session_id(good)}", headers={HEADER: other, "Cookie": f"{HEADER}={good}"})
        assert text(xml(mine), "SessionId") == session_id(good)


def test_failed_logons_are_401_with_the_realm(live_server: LiveServer) -> None:
    with live_server.client() as admin:
        disabled, password = make_user(admin, "Viewer", enabled=False)
    with live_server.anonymous() as anon:
        for auth in ((ADMIN, "Wr0ng-veeam-pw"), ("nobody", "x"), (disabled, password)):
            message = veeam_error(anon.post(f"{API}/sessionMngr/?v=latest", auth=auth), 401)
            assert "Wr0ng-veeam-pw" not in message
        veeam_error(anon.post(f"{API}/sessionMngr/?v=latest"), 401)
        veeam_error(anon.post(f"{API}/sessionMngr/?v=latest", headers={"Authorization": "Basic !!"}), 401)
        veeam_error(anon.post(f"{API}/sessionMngr/?v=latest", auth=(ADMIN, "Wr0ng"), headers=JSON), 401)


@pytest.mark.parametrize("path", ["/jobs", "/repositories", "/tasks/task-1", "/logonSessions/x"])
def test_no_session_is_401(live_server: LiveServer, path: str) -> None:
    with live_server.anonymous() as anon:
        veeam_error(anon.get(API + path), 401)
        veeam_error(anon.get(API + path, headers={HEADER: "not-a-session"}), 401)
        veeam_error(anon.get(API + path, headers=JSON), 401)
        # Other schemes are not Veeam's: HTTP Basic opens no Enterprise Manager resource.
        veeam_error(anon.get(API + path, auth=(ADMIN, ADMIN_PASSWORD)), 401)


def test_logoff_ends_the_session_and_only_its_own(live_server: LiveServer) -> None:
    token, other = log_on(live_server), log_on(live_server)
    own = session_id(token)
    with em(live_server, token) as client, em(live_server, other) as second:
        assert text(xml(client.get(f"/logonSessions/{own}")), "SessionId") == own
        listed = xml(client.get("/logonSessions"))
        assert [text(s, "SessionId") for s in listed.findall(f"{Q}LogonSession")] == [own]
        assert [s["SessionId"] for s in client.get("/logonSessions", headers=JSON).json()["LogonSessions"]] == [own]
        veeam_error(second.get(f"/logonSessions/{own}"), 404)
        veeam_error(second.delete(f"/logonSessions/{own}"), 404)
        assert client.delete(f"/logonSessions/{own}", params={"v": "latest"}).status_code == 204
        veeam_error(client.get("/jobs"), 401)
        veeam_error(client.delete(f"/logonSessions/{own}"), 401)
        assert second.get("/jobs").status_code == 200


def test_each_request_restarts_the_idle_time_and_expiry_ends_it(make_server: object) -> None:
    server: LiveServer = make_server()  # type: ignore[operator]
    token = log_on(server)
    (first,) = _expiries(server)
    assert dt.timedelta(minutes=14) < first - dt.datetime.now(dt.UTC).replace(tzinfo=None) <= dt.timedelta(minutes=15)
    with em(server, token) as client:
        assert client.get("/jobs", params={"v": "latest"}).status_code == 200
        (later,) = _expiries(server)
        assert later > first
        _expire_all(server)
        veeam_error(client.get("/jobs"), 401)
        veeam_error(client.get("/repositories", headers=JSON), 401)


def test_a_veeam_session_opens_no_other_dialect(live_server: LiveServer) -> None:
    token = log_on(live_server)
    with live_server.anonymous() as anon:
        assert anon.get("/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert anon.get("/MicroStrategyLibrary/api/sessions", headers={"X-MSTR-AuthToken": token}).status_code == 401


def test_a_user_without_a_role_may_not_read_jobs(live_server: LiveServer) -> None:
    with live_server.client() as admin:
        login, password = make_user(admin)
    with em(live_server, log_on(live_server, login, password)) as client:
        veeam_error(client.get("/jobs"), 403)


def test_every_veeam_endpoint_but_the_entry_and_logon_needs_a_session(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        paths = anon.get("/openapi.json").json()["paths"]
        operations = [
            (method.upper(), re.sub(r"\{[^}]+\}", "0b7b4c8e-1111-4222-8333-444455556666", path), spec)
            for path, methods in paths.items()
            if path.startswith(f"{API}/") and path not in (f"{API}/", f"{API}/sessionMngr/")
            for method, spec in methods.items()
        ]
        assert len(operations) == 13  # sessions (3), repositories (2), jobs (4), backup sessions (2), tasks (2)
        for method, path, spec in operations:
            assert "v" in {p["name"] for p in spec.get("parameters", [])}, path
            params = {"action": "clone", "v": "latest"} if method == "POST" else {"v": "latest"}
            veeam_error(anon.request(method, path, params=params, headers={"Content-Type": "application/json"}), 401)
