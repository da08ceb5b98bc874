"""Strategy's own Python SDK (mstrio-py, unchanged) against a real envclone server: it connects
with a user name and password, reads the session and the server's version, lists the projects
(loaded, and through the monitors), reads one by id and by name, and closes its session. Skipped
where mstrio-py is not installed."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import ok

mstrio = pytest.importorskip("mstrio")


def test_mstrio_connects_and_lists_projects(sqlite_server: LiveServer) -> None:
    from mstrio.api import projects as projects_api
    from mstrio.connection import Connection
    from mstrio.server import Environment, Project

    with sqlite_server.client() as admin:
        made = ok(admin.post("/v1/projects", json={"name": f"sdk-{uuid.uuid4().hex[:8]}"}), 201)
    conn = Connection(f"{sqlite_server.url}/MicroStrategyLibrary", ADMIN, ADMIN_PASSWORD, login_mode=1)
    try:
        assert conn.token and conn.iserver_version >= "11.5.1200"
        assert isinstance(conn.timeout, int) and conn.timeout > 0
        loaded = Environment(conn).list_loaded_projects(to_dictionary=True)
        assert made["id"] in {p["id"] for p in loaded}
        assert projects_api.get_project(conn, made["id"]).json()["name"] == made["name"]
        assert projects_api.get_project(conn, made["name"]).json()["id"] == made["id"]
        assert made["id"] in {p.id for p in Environment(conn).list_projects()}
        assert Project(conn, id=made["id"]).name == made["name"]
        token = conn.token
    finally:
        conn.close()
    with httpx.Client(base_url=sqlite_server.url) as anon:
        refused = anon.get("/MicroStrategyLibrary/api/sessions", headers={"X-MSTR-AuthToken": token})
        assert refused.status_code == 401 and refused.json()["code"] == "ERR009"
