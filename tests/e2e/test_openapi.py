"""Every endpoint that reads a JSON body declares it in the OpenAPI document, with the fields the
dialect's documents name: bodies are read by envclone itself (size limits, error shapes), so
FastAPI cannot infer them, and a client generated from /openapi.json would otherwise send nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.e2e.client import ok
from tests.openapi_audit import BODILESS, GAPS, gaps

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


# --- the document is the contract that schemathesis fuzzes (tests/e2e/test_schemathesis.py) -------
def test_nothing_is_left_undeclared(spec: dict[str, Any]) -> None:
    """Every path parameter, request body, success model and client error is declared."""
    found = {gap: keys for gap, keys in gaps(spec).items() if keys}
    assert found == {}, found


def test_the_bodiless_writes_exist_and_take_no_body(spec: dict[str, Any]) -> None:
    """The allowance for writes without a body names real operations only, so it cannot go stale."""
    for key in BODILESS:
        method, path = key.split(" ", 1)
        operation = spec["paths"][path][method.lower()]
        assert "requestBody" not in operation, key


def test_no_error_shape_is_documented_that_envclone_never_sends(spec: dict[str, Any]) -> None:
    # Each dialect answers invalid input in its own shape; FastAPI's default would be a lie.
    assert "HTTPValidationError" not in str(spec)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/v1/users", "ErrorResponse"),
        ("/interop/rest/v2/backups/list", "ErrorEnvelope"),
        ("/MicroStrategyLibrary/api/projects", "ErrorBody"),
        ("/api/jobs", "Error"),
    ],
)
def test_each_dialect_documents_its_own_error_shape(spec: dict[str, Any], path: str, error: str) -> None:
    responses = spec["paths"][path]["get"]["responses"]
    for status in ("401", "4XX"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{error}"}, (status, schema)


def test_veeam_answers_are_documented_in_xml_and_json(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        if path.startswith("/api/") and "get" in item:
            assert set(item["get"]["responses"]["200"]["content"]) == {"application/xml", "application/json"}, path


def test_the_audit_finds_each_gap() -> None:
    """The counts above are only as good as the audit: a document with one of each gap."""
    document = {
        "paths": {
            "/v1/things/{id}": {
                "put": {"responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/v1/others/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                    "responses": {"404": {}},
                }
            },
        }
    }
    assert {gap: len(keys) for gap, keys in gaps(document).items()} == dict.fromkeys(GAPS, 1)
