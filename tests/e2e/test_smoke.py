"""A server starts on each backend, authenticates its first administrator and reports a digest."""

from __future__ import annotations

from tests.builders import COMPONENTS
from tests.conftest import LiveServer
from tests.e2e.client import digest, ok


def test_first_admin_can_log_in_and_read_digest(live_server: LiveServer) -> None:
    with live_server.client() as http:
        who = ok(http.get("/v1/auth/whoami"))
        assert who["login"] == "admin"
        assert {"Service Administrator", "Identity Domain Administrator"} <= set(who["roles"])
        body = digest(http)
        assert set(body["components"]) == set(COMPONENTS)
        assert len(body["environment"]) == 64
