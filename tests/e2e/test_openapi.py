"""Every endpoint that reads a JSON body declares it in the OpenAPI document, with the fields the
dialect's documents name: bodies are read by envclone itself (size limits, error shapes), so
FastAPI cannot infer them, and a client generated from /openapi.json would otherwise send nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.e2e.client import ok

EPM = "/interop/rest"
# (method, path, a field the body has, whether the body is required)
BODIES = [
    ("post", f"{EPM}/v1/services/clone", "targetURL", True),
    ("post", f"{EPM}/v1/services/restoreenvironment", "backupName", True),
    ("post", f"{EPM}/v2/backups/restore", "backupName", True),
    ("put", f"{EPM}/v2/maintenance/setdailymaintenancestarttime", "startTime", True),
    ("post", f"{EPM}/v2/maintenance/rundailymaintenance", "skipNext", False),
    ("post", "/v1/clone", "target_url", True),
    ("post", "/v1/clone/preview", "list_limit", True),
    ("post", "/v1/restore", "backup_name", True),
    ("post", "/v1/maintenance/run", "skip_next", False),
    ("put", "/v1/maintenance/start-time", "start_time", True),
    ("post", "/v1/auth/token", "username", True),
    ("post", "/v1/records/{kind}", "items", True),
    ("patch", "/v1/settings", None, True),
    ("post", "/v1/users", "login", True),
    ("post", "/v1/users/batch", "items", True),
    ("post", "/v1/transfer/missing", "ids", True),
    ("post", "/v1/transfer/apply", "archive_id", True),
    ("post", "/v1/jobs/{uid}/clone", "name", True),
]


@pytest.fixture(scope="module")
def spec(sqlite_server: LiveServer) -> dict[str, Any]:
    with sqlite_server.anonymous() as anon:
        document: dict[str, Any] = ok(anon.get("/openapi.json"))
    return document


@pytest.mark.parametrize(("method", "path", "field", "required"), BODIES, ids=[f"{m} {p}" for m, p, _, _ in BODIES])
def test_a_json_body_is_declared(
    spec: dict[str, Any], method: str, path: str, field: str | None, required: bool
) -> None:
    operation = spec["paths"][path][method]
    body = operation.get("requestBody")
    assert body is not None, f"{method.upper()} {path} declares no request body"
    assert body["required"] is required
    schema = body["content"]["application/json"]["schema"]
    assert "$ref" not in str(schema) or "#/components/" in str(schema), schema  # resolvable references only
    if field is not None:
        assert field in schema.get("properties", {}), (field, sorted(schema.get("properties", {})))


def test_the_token_endpoint_declares_its_form_too(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
