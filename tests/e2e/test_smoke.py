"""A server starts on each backend, authenticates its first administrator and reports a digest."""

from __future__ import annotations

from tests.conftest import LiveServer


def test_first_admin_can_log_in_and_read_digest(live_server: LiveServer) -> None:
    with live_server.client() as http:
        who = http.get("/v1/auth/whoami").json()
        assert who["login"] == "admin"
        assert {"Service Administrator", "Identity Domain Administrator"} <= set(who["roles"])
        digest = http.get("/v1/environment/digest").json()
        assert set(digest["components"]) == {
            "artifacts",
            "users",
            "configuration",
            "jobs",
            "jobConsole",
            "applicationAudit",
            "dataManagement",
            "files",
            "settings",
        }
        assert len(digest["environment"]) == 64
