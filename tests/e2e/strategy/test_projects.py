"""Strategy Library status and projects against a real server on SQLite and PostgreSQL: the
versions clients compare, envclone's real projects in Strategy's shape, X-MSTR-ProjectID accepted
on any request, PROJECT_NOT_FOUND, FORBIDDEN, and the contract shown in OpenAPI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import make_user
from tests.conftest import LiveServer
from tests.e2e.client import ok
from tests.e2e.strategy.library import API, HEX32, login, session, strategy_error


@pytest.fixture(scope="module")
def projects(http: httpx.Client) -> dict[str, dict[str, object]]:
    """Two projects made over the native API, by id."""
    made = [ok(http.post("/v1/projects", json={"name": f"strat-{uuid.uuid4().hex[:8]}"}), 201) for _ in range(2)]
    return {p["id"]: p for p in made}


@pytest.fixture(scope="module")
def library(live_server: LiveServer) -> Iterator[httpx.Client]:
    with session(live_server, login(live_server)) as client:
        yield client


def test_status_gives_versions_in_strategy_form(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        body = ok(anon.get(f"{API}/status"))
    for key in ("iServerVersion", "webVersion"):
        parts = [int(p) for p in body[key].split(".")]
        assert len(parts) >= 3 and parts[:3] >= [11, 5, 1200], body


def test_projects_are_envclone_projects(library: httpx.Client, projects: dict[str, dict[str, object]]) -> None:
    listed = {p["id"]: p for p in ok(library.get("/projects"))}
    assert set(projects) <= set(listed)
    for pid, made in projects.items():
        shown = listed[pid]
        assert HEX32.match(pid)
        assert shown["name"] == made["name"] and shown["status"] == 0 and shown["alias"] == ""
        assert set(shown) >= {"id", "name", "alias", "description", "status", "owner"}
        assert ok(library.get(f"/projects/{pid}")) == shown
        assert ok(library.get(f"/projects/{made['name']}")) == shown  # by name, as mstrio-py asks


def test_project_header_is_accepted_on_any_request(
    live_server: LiveServer, library: httpx.Client, projects: dict[str, dict[str, object]]
) -> None:
    pid = next(iter(projects))
    headers = {"X-MSTR-ProjectID": pid}
    assert library.get("/projects", headers=headers).status_code == 200
    assert library.get(f"/projects/{pid}", headers=headers).status_code == 200
    assert library.get("/sessions", headers=headers).status_code == 200
    assert library.put("/sessions", headers=headers).status_code == 204
    with live_server.anonymous() as anon:
        assert anon.get(f"{API}/status", headers=headers).status_code == 200


def test_unknown_project_is_project_not_found(library: httpx.Client) -> None:
    strategy_error(library.get(f"/projects/{uuid.uuid4().hex.upper()}"), 404, "PROJECT_NOT_FOUND")
    strategy_error(library.get("/projects/not-an-id"), 404, "PROJECT_NOT_FOUND")


def test_a_user_without_read_rights_is_forbidden(live_server: LiveServer, http: httpx.Client) -> None:
    login_, password = make_user(http)
    with session(live_server, login(live_server, login_, password)) as s:
        strategy_error(s.get("/projects"), 403, "FORBIDDEN")
        assert s.get("/sessions/userInfo").json()["username"] == login_


def test_unknown_paths_and_methods_answer_in_strategy_shape(library: httpx.Client) -> None:
    strategy_error(library.get("/noSuchThing"), 404, "ERR004")
    body = strategy_error(library.delete("/status"), 405, "ERR001")
    assert body["iServerCode"] is None


def test_openapi_declares_the_library_surface(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        paths = ok(anon.get("/openapi.json"))["paths"]
    login_op = paths[f"{API}/auth/login"]["post"]
    assert set(login_op["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    assert {"204", "400", "401"} <= set(login_op["responses"])
    sessions = paths[f"{API}/sessions"]["get"]
    headers = {p["name"] for p in sessions["parameters"] if p["in"] == "header"}
    assert {"X-MSTR-AuthToken", "X-MSTR-ProjectID"} <= headers
    assert "404" in paths[f"{API}/projects/{{project_id}}"]["get"]["responses"]
    assert "404" in paths[f"{API}/objects/{{object_id}}"]["get"]["responses"]
    assert {"offset", "limit"} <= {p["name"] for p in paths[f"{API}/monitors/projects"]["get"]["parameters"]}
    for path in ("/status", "/projects", "/sessions/userInfo", "/auth/logout", "/auth/login", "/monitors/projects"):
        for operation in paths[API + path].values():
            assert "X-MSTR-ProjectID" in {p["name"] for p in operation.get("parameters", [])}, path


@pytest.mark.parametrize(
    "path", ["/projects/" + "A" * 300, "/projects/%C3%A9t%C3%A9", "/projects/%20", "/projects/a%2Fb"], ids=str
)
def test_odd_project_ids_are_not_found_never_a_server_error(library: httpx.Client, path: str) -> None:
    response = library.get(path)
    assert response.status_code == 404 and response.json()["code"] in ("PROJECT_NOT_FOUND", "ERR004"), response.text


def test_odd_login_bodies_are_client_errors(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        for kwargs in (
            {"json": {"username": "u" * 1000, "password": "x"}},
            {"json": {"username": "admin", "password": None}},
            {"json": {"username": "admin", "password": "p" * 5000}},
            {"data": {"username": "u" * 1000, "password": "x"}},
            {"content": b"username=admin&password", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            {"files": {"username": (None, "admin"), "password": (None, "x")}},
            {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
            {"content": b"x" * 70_000, "headers": {"content-type": "application/x-www-form-urlencoded"}},
            {"content": iter([b"x" * 40_000] * 2), "headers": {"content-type": "application/x-www-form-urlencoded"}},
            {"content": b"username=%FF&password=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        ):
            response = anon.post(f"{API}/auth/login", **kwargs)  # type: ignore[arg-type]
            assert 400 <= response.status_code < 500, (kwargs.keys(), response.text)
            assert set(response.json()) == {"code", "message", "ticketId", "iServerCode"}


def test_monitors_pages_projects_with_their_total(
    library: httpx.Client, projects: dict[str, dict[str, object]]
) -> None:
    everything = library.get("/monitors/projects")
    total = int(everything.headers["X-MSTR-Total-Count"])
    listed = [p["id"] for p in ok(everything)["projects"]]
    assert total == len(listed) and set(projects) <= set(listed)
    assert listed == [p["id"] for p in ok(library.get("/projects"))]
    pages = [ok(library.get("/monitors/projects", params={"offset": o, "limit": 1}))["projects"] for o in range(total)]
    assert [page[0]["id"] for page in pages] == listed
    assert ok(library.get("/monitors/projects", params={"offset": total}))["projects"] == []
    strategy_error(library.get("/monitors/projects", params={"limit": -2}), 400, "INVALID_REQUEST")
    strategy_error(library.get("/monitors/projects", params={"offset": "x"}), 400, "INVALID_REQUEST")


def test_a_project_is_an_object_of_type_32(library: httpx.Client, projects: dict[str, dict[str, object]]) -> None:
    pid, made = next(iter(projects.items()))
    shown = ok(library.get(f"/objects/{pid}", params={"type": 32}))
    assert shown["id"] == pid and shown["name"] == made["name"] and shown["type"] == 32
    strategy_error(library.get(f"/objects/{uuid.uuid4().hex.upper()}", params={"type": 32}), 404, "ERR004")
    strategy_error(library.get(f"/objects/{made['name']}", params={"type": 32}), 404, "ERR004")
    strategy_error(library.get(f"/objects/{pid}", params={"type": 3}), 404, "ERR004")
    strategy_error(library.get(f"/objects/{pid}"), 400, "INVALID_REQUEST")
