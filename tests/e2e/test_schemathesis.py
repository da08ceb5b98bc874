"""schemathesis over /openapi.json: every dialect's operations, each with a bounded number of
generated requests, authenticated as each dialect's clients are, must never get a server error
and must get a response that matches the schema the operation declares for its status."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer

STRATEGY = "/MicroStrategyLibrary/api"
# Operations that must not be fuzzed on a server the other operations share, each with why.
EXCLUDED = {
    # They replace the whole environment (restore, a clone's apply): every later request would
    # test an environment that a fuzzed backup name or archive just emptied or locked.
    ("POST", "/v1/restore"),
    ("POST", "/v1/transfer/apply"),
    ("POST", "/interop/rest/v1/services/restoreenvironment"),
    ("POST", "/interop/rest/v2/backups/restore"),
    # They connect to the target URL the body names: a fuzzer's URLs would reach arbitrary hosts.
    ("POST", "/v1/clone"),
    ("POST", "/v1/clone/preview"),
    ("POST", "/interop/rest/v1/services/clone"),
    # An S3 Storage Service is checked by writing to its bucket: a fuzzed bucket name would be
    # looked for on AWS itself (tests/e2e/strategy/test_duplication_s3.py checks these calls).
    ("POST", f"{STRATEGY}/mstrServices/library/storage/validation"),
    ("PATCH", f"{STRATEGY}/mstrServices/library/storage"),
    # Daily maintenance writes two whole archives per call and holds the environment meanwhile:
    # a few runs would use the whole time budget and turn every other write into a 409.
    ("POST", "/v1/maintenance/run"),
    ("POST", "/interop/rest/v2/maintenance/rundailymaintenance"),
    ("POST", "/interop/rest/{api_version}/services/maintenancewindow"),
    # It ends the Strategy session every Strategy request here is made with.
    ("POST", f"{STRATEGY}/auth/logout"),
}
SESSION_COOKIES = ("JSESSIONID", "X-RestSvcSessionId")  # Strategy's and Veeam's, which win over headers
# Per operation; about 90 s for the whole document on a 2-core machine. Raise it for a longer hunt.
EXAMPLES = int(os.environ.get("ENVCLONE_FUZZ_EXAMPLES", "12"))


class Credentials:
    """What each dialect's client sends: Basic for native and EPM, a Strategy session token, a
    Veeam logon session."""

    def __init__(self, server: LiveServer) -> None:
        self.basic = "Basic " + base64.b64encode(f"{ADMIN}:{ADMIN_PASSWORD}".encode()).decode()
        body = {"username": ADMIN, "password": ADMIN_PASSWORD, "loginMode": 1}
        login = httpx.post(f"{server.url}{STRATEGY}/auth/login", json=body, timeout=30)
        assert login.status_code == 204, login.text
        self.strategy = login.headers["X-MSTR-AuthToken"]
        logon = httpx.post(f"{server.url}/api/sessionMngr/?v=latest", auth=(ADMIN, ADMIN_PASSWORD), timeout=30)
        assert logon.status_code == 201, logon.text
        self.veeam = logon.headers["X-RestSvcSessionId"]

    def headers(self, path: str) -> list[dict[str, str]]:
        """The headers of each way the operation is called."""
        if path.startswith(STRATEGY):
            return [{"X-MSTR-AuthToken": self.strategy}]
        if path.startswith("/api/"):
            # Veeam answers XML by default and JSON on request: both are rendered and may fail;
            # the document's schemas check the JSON (the XML holds the same models).
            session = {"X-RestSvcSessionId": self.veeam}
            return [{**session, "Accept": "application/json"}, {**session, "Accept": "application/xml"}]
        return [{"Authorization": self.basic}]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Credentials]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    # The fuzzer logs in with made-up names at every login endpoint: from one address, that would
    # soon delay the address (login throttling, tested on its own) and answer 429 to the rest.
    unthrottled = {"ENVCLONE_LOGIN_ADDRESS_FREE_FAILURES": "100000", "ENVCLONE_LOGIN_USER_FREE_FAILURES": "100000"}
    server = LiveServer(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}", extra_env=unthrottled, args=("--demo",))
    server.start()
    try:
        yield server, Credentials(server)
    finally:
        server.stop()


def test_every_operation_keeps_its_contract(fuzzed: tuple[LiveServer, Credentials]) -> None:
    """Every operation is run on its own, so that one failure does not hide the others."""
    server, credentials = fuzzed
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    keys = {(operation.method.upper(), operation.path) for operation in operations}
    assert keys >= EXCLUDED, EXCLUDED - keys  # the exclusions name real operations, so cannot go stale
    failures: list[str] = []
    tried = [operation for operation in operations if (operation.method.upper(), operation.path) not in EXCLUDED]
    for operation in tried:
        for headers in credentials.headers(operation.path):
            try:
                _fuzz(operation, server.url, headers)
            except (Exception, BaseExceptionGroup) as exc:  # failed checks, with how to reproduce them
                failures.append(f"{operation.method.upper()} {operation.path} {headers.get('Accept', '')}: {exc}")
    assert len(tried) > 100, len(tried)  # the whole document was read: four dialects
    assert not failures, f"{len(failures)} of {len(tried)} operations failed:\n\n" + "\n\n".join(failures)


def _fuzz(operation: Any, base_url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        # The credential parameters the document declares are the fuzzer's to fill too; the
        # session used here replaces them, or almost every request would only test a 401.
        case.headers = {**(case.headers or {}), **headers}
        for cookie in SESSION_COOKIES:
            (case.cookies or {}).pop(cookie, None)
        case.call_and_validate(
            base_url=base_url, headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=30
        )

    run()
