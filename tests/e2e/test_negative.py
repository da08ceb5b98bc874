"""Requests the native API must refuse, on SQLite and PostgreSQL: each gets a clear JSON error with a
stable code and status, and the environment digest (and so its content) is unchanged afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.e2e.client import digest, ok

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}
FULL: dict[str, Any] = {"definition": {}, "acl": [], "translations": {}}


@dataclass(frozen=True)
class Existing:
    project: str
    object: str
    user: str
    group: str
    repository: str
    job: str
    config: str


@pytest.fixture(scope="module")
def existing(http: httpx.Client) -> Existing:
    project = ok(http.post("/v1/projects", json={"name": "Existing"}), 201)["id"]
    ok(http.post("/v1/projects", json={"name": "Existing 2"}), 201)
    obj = ok(http.post(f"/v1/projects/{project}/objects", json={"type": 3, "name": "Form", **FULL}), 201)["id"]
    ok(http.post("/v1/users", json={"login": "ann", "password": "Ann-passw0rd"}), 201)
    ok(http.post("/v1/groups", json={"name": "planners"}), 201)
    ok(http.post("/v1/groups/planners/members", json={"member_kind": "user", "member_name": "ann"}), 201)
    ok(
        http.post(
            "/v1/role-assignments", json={"principal_kind": "user", "principal_name": "ann", "role_name": "Viewer"}
        ),
        201,
    )
    repository = ok(http.post("/v1/repositories", json={"name": "Main"}), 201)["uid"]
    job = ok(
        http.post(
            "/v1/jobs", json={"name": "Nightly", "job_type": "Backup", "repository_uid": repository, "definition": {}}
        ),
        201,
    )["uid"]
    config = ok(http.post("/v1/configuration-objects", json={"type": 34, "name": "Cfg", "definition": {}}), 201)["id"]
    return Existing(project, obj, "ann", "planners", repository, job, config)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # formatted with the Existing fixture's fields
    status: int
    code: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _json(body: Any) -> dict[str, Any]:
    return {"json": body}


def _raw(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": JSON}


NAME_251 = "n" * 251
BIG_DEFINITION = {"blob": "x" * (MIB + 10)}
RANDOM_ID = uuid.uuid4().hex.upper()

CASES: dict[str, Case] = {
    # malformed JSON
    "malformed-json": Case("POST", "/v1/projects", 400, "malformed_json", _raw(b'{"name": "x",')),
    "empty-body": Case("POST", "/v1/projects", 400, "malformed_json", _raw(b"")),
    "not-utf8": Case("POST", "/v1/projects", 400, "malformed_json", _raw(b'{"name": "\xff\xfe"}')),
    "malformed-patch": Case("PATCH", "/v1/projects/{project}", 400, "malformed_json", _raw(b"{name: 1}")),
    "malformed-batch": Case("POST", "/v1/projects/{project}/objects/batch", 400, "malformed_json", _raw(b"[1, 2")),
    "malformed-records": Case("POST", "/v1/records/jobConsole", 400, "malformed_json", _raw(b"{'items': []}")),
    "malformed-settings": Case("PATCH", "/v1/settings", 400, "malformed_json", _raw(b"nope")),
    # wrong types and unknown fields
    "name-not-string": Case("POST", "/v1/projects", 422, "invalid_request", _json({"name": 5})),
    "locale-not-int": Case(
        "POST", "/v1/projects", 422, "invalid_request", _json({"name": "x", "default_locale": "fr"})
    ),
    "locale-out-of-range": Case(
        "POST", "/v1/projects", 422, "invalid_request", _json({"name": "x", "default_locale": 0})
    ),
    "body-is-array": Case("POST", "/v1/projects", 422, "invalid_request", _json([{"name": "x"}])),
    "body-is-string": Case("POST", "/v1/projects", 422, "invalid_request", _json("x")),
    "unknown-field": Case("POST", "/v1/projects", 422, "invalid_request", _json({"name": "x", "colour": "red"})),
    "missing-field": Case("POST", "/v1/configuration-objects", 422, "invalid_request", _json({"name": "x"})),
    "empty-name": Case("POST", "/v1/groups", 422, "invalid_request", _json({"name": ""})),
    "control-char-name": Case("POST", "/v1/groups", 422, "invalid_request", _json({"name": "a\nb"})),
    "bool-not-bool": Case("PATCH", "/v1/users/{user}", 422, "invalid_request", _json({"enabled": "maybe"})),
    "change-key": Case("PATCH", "/v1/users/{user}", 422, "invalid_request", _json({"login": "bob"})),
    "change-project-id": Case("PATCH", "/v1/projects/{project}", 422, "invalid_request", _json({"id": RANDOM_ID})),
    "change-object-type-bad": Case(
        "PATCH", "/v1/projects/{project}/objects/{object}", 422, "invalid_request", _json({"type": "form"})
    ),
    "bad-member-kind": Case(
        "POST",
        "/v1/groups/{group}/members",
        422,
        "invalid_request",
        _json({"member_kind": "robot", "member_name": "x"}),
    ),
    "group-in-itself": Case(
        "POST",
        "/v1/groups/{group}/members",
        422,
        "invalid_request",
        _json({"member_kind": "group", "member_name": "planners"}),
    ),
    "bad-job-type": Case(
        "POST", "/v1/jobs", 422, "invalid_request", _json({"name": "j", "job_type": "Nope", "definition": {}})
    ),
    "bad-repository-urn": Case(
        "POST", "/v1/repositories", 422, "invalid_request", _json({"uid": "urn:x:1", "name": "r"})
    ),
    "batch-not-list": Case("POST", "/v1/users/batch", 422, "invalid_request", _json({"items": {"login": "x"}})),
    "batch-bad-item": Case(
        "POST", "/v1/users/batch", 422, "invalid_request", _json({"items": [{"login": "ok-1"}, {"login": 7}]})
    ),
    "batch-unknown-field": Case(
        "POST", "/v1/groups/batch", 422, "invalid_request", _json({"items": [{"name": "g", "x": 1}]})
    ),
    "records-bad-item": Case(
        "POST", "/v1/records/applicationAudit", 422, "invalid_request", _json({"items": [{"ts": "yesterday"}]})
    ),
    "records-unknown-kind": Case("POST", "/v1/records/console", 422, "invalid_request", _json({"items": [{}]})),
    "records-query-unknown-kind": Case("GET", "/v1/records/console", 422, "invalid_request"),
    "records-bad-since": Case("GET", "/v1/records/jobConsole?since=last-week", 422, "invalid_request"),
    "records-unknown-filter": Case("GET", "/v1/records/jobConsole?colour=red", 422, "invalid_request"),
    "settings-unknown": Case("PATCH", "/v1/settings", 422, "invalid_request", _json({"colour": "red"})),
    "settings-read-only": Case("PATCH", "/v1/settings", 422, "invalid_request", _json({"logo_image": None})),
    "settings-bad-time": Case(
        "PATCH", "/v1/settings", 422, "invalid_request", _json({"maintenance_start_time": "24:00"})
    ),
    "settings-bad-zone": Case(
        "PATCH", "/v1/settings", 422, "invalid_request", _json({"maintenance_time_zone": "Mars/Olympus_Mons"})
    ),
    # invalid 32-hex ids
    "short-hex-id": Case("POST", "/v1/projects", 422, "invalid_request", _json({"id": "ABC123", "name": "x"})),
    "non-hex-id": Case("POST", "/v1/projects", 422, "invalid_request", _json({"id": "G" * 32, "name": "x"})),
    "long-hex-id": Case(
        "POST", "/v1/configuration-objects", 422, "invalid_request", _json({"id": "A" * 33, "type": 1, "name": "x"})
    ),
    "hex-object-ref": Case(
        "POST",
        "/v1/projects/{project}/subscriptions",
        422,
        "invalid_request",
        _json({"name": "s", "kind": "user", "recipient": "ann", "object_id": "not-an-id"}),
    ),
    # unknown ids
    "unknown-project": Case("GET", f"/v1/projects/{RANDOM_ID}", 404, "not_found"),
    "unknown-project-patch": Case("PATCH", f"/v1/projects/{RANDOM_ID}", 404, "not_found", _json({"description": "x"})),
    "unknown-project-delete": Case("DELETE", f"/v1/projects/{RANDOM_ID}", 404, "not_found"),
    "objects-of-unknown-project": Case("GET", f"/v1/projects/{RANDOM_ID}/objects", 404, "not_found"),
    "object-in-unknown-project": Case(
        "POST", f"/v1/projects/{RANDOM_ID}/objects", 404, "not_found", _json({"type": 1, "name": "x", **FULL})
    ),
    "unknown-object": Case("GET", f"/v1/projects/{{project}}/objects/{RANDOM_ID}", 404, "not_found"),
    "unknown-object-delete": Case("DELETE", f"/v1/projects/{{project}}/objects/{RANDOM_ID}", 404, "not_found"),
    "unknown-user": Case("GET", "/v1/users/nobody", 404, "not_found"),
    "unknown-user-patch": Case("PATCH", "/v1/users/nobody", 404, "not_found", _json({"display_name": "x"})),
    "unknown-group-members": Case("GET", "/v1/groups/nobody/members", 404, "not_found"),
    "member-unknown-user": Case(
        "POST", "/v1/groups/{group}/members", 404, "not_found", _json({"member_kind": "user", "member_name": "nobody"})
    ),
    "assign-unknown-role": Case(
        "POST",
        "/v1/role-assignments",
        404,
        "not_found",
        _json({"principal_kind": "user", "principal_name": "ann", "role_name": "Emperor"}),
    ),
    "assign-to-unknown-user": Case(
        "POST",
        "/v1/role-assignments",
        404,
        "not_found",
        _json({"principal_kind": "user", "principal_name": "nobody", "role_name": "Viewer"}),
    ),
    "unknown-config": Case("DELETE", f"/v1/configuration-objects/{RANDOM_ID}", 404, "not_found"),
    "unknown-job": Case("GET", "/v1/jobs/urn:veeam:Job:00000000-0000-0000-0000-000000000000", 404, "not_found"),
    "unknown-endpoint": Case("GET", "/v1/nothing-here", 404, "not_found"),
    "unknown-image": Case("PUT", "/v1/settings/images/banner", 404, "not_found", {"content": b"img"}),
    # duplicates and references
    "duplicate-project-name": Case("POST", "/v1/projects", 409, "conflict", _json({"name": "Existing"})),
    "duplicate-project-id": Case("POST", "/v1/projects", 409, "conflict", _json({"id": "{project}", "name": "Other"})),
    "rename-to-existing": Case("PATCH", "/v1/projects/{project}", 409, "conflict", _json({"name": "Existing 2"})),
    "duplicate-object-id": Case(
        "POST",
        "/v1/projects/{project}/objects",
        409,
        "conflict",
        _json({"id": "{object}", "type": 1, "name": "y", **FULL}),
    ),
    "duplicate-user": Case("POST", "/v1/users", 409, "conflict", _json({"login": "ann"})),
    "duplicate-group": Case("POST", "/v1/groups", 409, "conflict", _json({"name": "planners"})),
    "duplicate-member": Case(
        "POST", "/v1/groups/{group}/members", 409, "conflict", _json({"member_kind": "user", "member_name": "ann"})
    ),
    "duplicate-assignment": Case(
        "POST",
        "/v1/role-assignments",
        409,
        "conflict",
        _json({"principal_kind": "user", "principal_name": "ann", "role_name": "Viewer"}),
    ),
    "duplicate-in-batch": Case(
        "POST", "/v1/groups/batch", 409, "conflict", _json({"items": [{"name": "fresh-1"}, {"name": "fresh-1"}]})
    ),
    "batch-with-existing": Case(
        "POST", "/v1/users/batch", 409, "conflict", _json({"items": [{"login": "fresh-2"}, {"login": "ann"}]})
    ),
    "duplicate-repository-name": Case("POST", "/v1/repositories", 409, "conflict", _json({"name": "Main"})),
    "job-unknown-repository": Case(
        "POST",
        "/v1/jobs",
        409,
        "conflict",
        _json({"name": "j2", "job_type": "Backup", "repository_uid": "urn:veeam:Repository:none", "definition": {}}),
    ),
    "delete-repository-in-use": Case("DELETE", "/v1/repositories/{repository}", 409, "conflict"),
    "delete-builtin-role": Case("DELETE", "/v1/roles/Viewer", 409, "conflict"),
    "change-role-kind": Case("PATCH", "/v1/roles/Viewer", 422, "invalid_request", _json({"kind": "application"})),
    # oversized fields
    "name-251": Case("POST", "/v1/projects", 422, "invalid_request", _json({"name": NAME_251})),
    "login-251": Case("POST", "/v1/users", 422, "invalid_request", _json({"login": NAME_251})),
    "job-name-251": Case("POST", "/v1/jobs", 422, "invalid_request", _json({"name": NAME_251, "job_type": "Backup"})),
    "description-2001": Case(
        "POST", "/v1/groups", 422, "invalid_request", _json({"name": "g", "description": "d" * 2001})
    ),
    "record-status-33": Case(
        "POST", "/v1/records/jobConsole", 422, "invalid_request", _json({"items": [{"status": "s" * 33}]})
    ),
    # paging and filters
    "unknown-filter": Case("GET", "/v1/projects?colour=red", 422, "invalid_request"),
    "filter-on-hidden-column": Case("GET", "/v1/users?password_hash=x", 422, "invalid_request"),
    "int-filter-not-int": Case("GET", "/v1/projects/{project}/objects?type=form", 422, "invalid_request"),
    "bool-filter-not-bool": Case("GET", "/v1/projects/{project}/objects?is_schema=perhaps", 422, "invalid_request"),
    "limit-zero": Case("GET", "/v1/projects?limit=0", 422, "invalid_request"),
    "limit-too-big": Case("GET", "/v1/projects?limit=1001", 422, "invalid_request"),
    "limit-not-int": Case("GET", "/v1/projects?limit=ten", 422, "invalid_request"),
    "offset-negative": Case("GET", "/v1/projects?offset=-1", 422, "invalid_request"),
    "files-unknown-filter": Case("GET", "/v1/files/inbox?owner=ann", 422, "invalid_request"),
    # methods
    "method-not-allowed": Case("PUT", "/v1/projects", 405, "method_not_allowed", _json({"name": "x"})),
    "no-update-route": Case("PATCH", "/v1/role-assignments/user/ann/Viewer", 405, "method_not_allowed", _json({})),
}


def _format(value: Any, ids: Existing) -> Any:
    if isinstance(value, str):
        return value.format(**vars(ids)) if "{" in value else value
    if isinstance(value, dict):
        return {k: _format(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_format(v, ids) for v in value]
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_refused_without_change(http: httpx.Client, existing: Existing, name: str) -> None:
    case = CASES[name]
    kwargs = dict(case.kwargs)
    if "json" in kwargs:
        kwargs["json"] = _format(kwargs["json"], existing)
    before = digest(http)
    response = http.request(case.method, _format(case.path, existing), **kwargs)
    assert response.status_code == case.status, response.text
    error = response.json()["error"]
    assert error["code"] == case.code, response.text
    assert isinstance(error["message"], str) and len(error["message"]) > 5
    assert digest(http) == before


def test_oversized_definition_is_refused(http: httpx.Client, existing: Existing) -> None:
    before = digest(http)
    body = {"type": 1, "name": "huge", **FULL, "definition": BIG_DEFINITION}
    response = http.post(f"/v1/projects/{existing.project}/objects", json=body)
    assert (response.status_code, response.json()["error"]["code"]) in {
        (422, "invalid_request"),
        (413, "payload_too_large"),
    }
    assert "definition" in response.json()["error"]["message"]
    patch = http.patch(f"/v1/configuration-objects/{existing.config}", json={"definition": BIG_DEFINITION})
    assert (patch.status_code, patch.json()["error"]["code"]) in {(422, "invalid_request"), (413, "payload_too_large")}
    assert digest(http) == before
    assert ok(http.get(f"/v1/configuration-objects/{existing.config}"))["definition"] == {}


def test_oversized_body_is_refused(http: httpx.Client) -> None:
    before = digest(http)
    too_big = b'{"name": "' + b"x" * (16 * MIB) + b'"}'
    declared = http.post("/v1/projects", content=too_big, headers=JSON)
    assert (declared.status_code, declared.json()["error"]["code"]) == (413, "payload_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield b'{"items": [{"name": "'
        for _ in range(17):
            yield b"x" * MIB
        yield b'"}]}'

    streamed = http.post("/v1/groups/batch", content=chunked(), headers=JSON)
    assert (streamed.status_code, streamed.json()["error"]["code"]) == (413, "payload_too_large")
    token = http.post("/v1/auth/token", content=b'{"username": "' + b"a" * (128 * 1024) + b'"}', headers=JSON)
    assert (token.status_code, token.json()["error"]["code"]) == (413, "payload_too_large")
    assert digest(http) == before


def test_oversized_image_is_refused(http: httpx.Client) -> None:
    before = digest(http)
    response = http.put(
        "/v1/settings/images/logo", content=b"\0" * (10 * MIB + 1), headers={"content-type": "image/png"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
    assert digest(http) == before
    assert ok(http.get("/v1/settings"))["logo_image"] is None


def test_refused_batch_creates_nothing(http: httpx.Client, existing: Existing) -> None:
    prefix = f"atomic-{tag()}-"
    items = [{"name": f"{prefix}{i}"} for i in range(10)] + [{"name": "planners"}]
    response = http.post("/v1/groups/batch", json={"items": items})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert ok(http.get("/v1/groups", params={"name__prefix": prefix}))["total"] == 0


def test_existing_content_survives_the_refusals(http: httpx.Client, existing: Existing) -> None:
    assert ok(http.get(f"/v1/projects/{existing.project}"))["name"] == "Existing"
    assert ok(http.get(f"/v1/users/{existing.user}"))["enabled"] is True
    assert ok(http.get(f"/v1/repositories/{existing.repository}"))["name"] == "Main"
    assert ok(http.get(f"/v1/jobs/{existing.job}"))["repository_uid"] == existing.repository
    assert ok(http.get("/v1/roles/Viewer"))["kind"] == "predefined"
    assert ok(http.get("/v1/groups", params={"name__prefix": "fresh-"}))["total"] == 0
    assert ok(http.get("/v1/users", params={"login__prefix": "fresh-"}))["total"] == 0
    assert ok(http.get("/v1/users", params={"login__prefix": "ok-"}))["total"] == 0
