"""Hostile input that once made the server answer 500: each is refused with the dialect's client
error, and the environment's content is unchanged."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import LiveServer
from tests.e2e.client import FILES, PREFIX, digest, epm_error, error_of
from tests.e2e.strategy.library import API, strategy_error
from tests.e2e.veeam.em import em, log_on

DEEP = 1000  # past the JSON decoder's recursion limit
JSON = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    return (b'{"name": ' + b"[" * depth + b"]" * depth + b"}").replace(b"[]", b"[1]", 1)


@pytest.mark.parametrize("depth", [DEEP, 100])
def test_deeply_nested_json_is_refused_on_every_dialect(
    live_server: LiveServer, http: httpx.Client, depth: int
) -> None:
    before = digest(http)
    body = nested(depth)
    for path in ("/v1/projects", "/v1/auth/token", "/v1/clone/preview", "/v1/configuration-objects"):
        assert error_of(http.post(path, content=body, headers=JSON)) == (400, "malformed_json"), path
    epm_error(http.post(f"{PREFIX}/v1/services/restoreenvironment", content=body, headers=JSON), 400, 3)
    q = {"q": "[" * depth + "]" * depth}
    epm_error(http.post(f"{FILES}/deep.zip/contents", params=q, content=b"x"), 400, 3)
    with live_server.anonymous() as anon:
        strategy_error(anon.post(f"{API}/auth/login", content=body, headers=JSON), 400, "INVALID_REQUEST")
    assert digest(http) == before


def test_moderate_nesting_is_still_accepted(http: httpx.Client) -> None:
    definition: object = {"leaf": 1}
    for _ in range(30):
        definition = {"child": definition}
    body = {"type": 34, "name": "nested-30", "definition": definition}
    response = http.post("/v1/configuration-objects", content=json.dumps(body), headers=JSON)
    assert response.status_code == 201, response.text
    assert http.get(f"/v1/configuration-objects/{response.json()['id']}").json()["definition"] == definition


HUGE = 2**70
FULL = {"definition": {}, "acl": [], "translations": {}}


@pytest.fixture(scope="module")
def project(http: httpx.Client) -> str:
    response = http.post("/v1/projects", json={"name": "Hardening"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def obj(http: httpx.Client, project: str) -> str:
    response = http.post(f"/v1/projects/{project}/objects", json={"type": 3, "name": "Form", **FULL})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/configuration-objects", {"type": HUGE, "name": "big-type"}),
        ("POST", "/v1/configuration-objects", {"type": 34, "subtype": HUGE, "name": "big-subtype"}),
        ("POST", "/v1/configuration-objects", {"type": 34, "subtype": 2**31, "name": "int32-subtype"}),
        ("POST", "/v1/projects/{project}/objects", {"type": 3, "subtype": -(2**63) - 1, "name": "o", **FULL}),
        ("PATCH", "/v1/projects/{project}/objects/{obj}", {"subtype": HUGE}),
        ("PATCH", "/v1/projects/{project}/objects/{obj}", {"subtype": 2**40}),
        ("POST", "/v1/projects", {"name": "big-locale", "default_locale": HUGE}),
        # loose types: text and booleans are not integers, numbers are not booleans
        ("POST", "/v1/configuration-objects", {"type": "44", "name": "text-type"}),
        ("POST", "/v1/configuration-objects", {"type": True, "name": "bool-type"}),
        ("POST", "/v1/configuration-objects", {"type": 44.0, "name": "float-type"}),
        ("PATCH", "/v1/projects/{project}/objects/{obj}", {"subtype": "7"}),
        ("PATCH", "/v1/projects/{project}/objects/{obj}", {"is_schema": 1}),
        ("POST", "/v1/users", {"login": "loose", "enabled": "true"}),
        ("POST", "/v1/restore", {"backup_name": "x", "users": "yes"}),
        ("POST", "/v1/maintenance/run", {"skip_next": 0}),
    ],
)
def test_out_of_range_and_loose_integers_are_refused(
    http: httpx.Client, project: str, obj: str, method: str, path: str, body: dict[str, object]
) -> None:
    before = digest(http)
    response = http.request(method, path.format(project=project, obj=obj), json=body)
    assert error_of(response) == (422, "invalid_request"), response.text
    assert digest(http) == before


@pytest.mark.parametrize("ref", [str(HUGE), "9" * 5000, str(2**63), "²"])
def test_operation_numbers_past_64_bits_are_not_found(http: httpx.Client, ref: str) -> None:
    assert error_of(http.get(f"/v1/operations/{ref}")) == (404, "not_found")
    assert error_of(http.post(f"/v1/operations/{ref}/cancel")) == (404, "not_found")


def test_epm_job_numbers_past_64_bits_are_not_found(http: httpx.Client) -> None:
    for ref in (str(HUGE), "9" * 5000):
        epm_error(http.get(f"{PREFIX}/v1/services/restoreenvironment/status/{ref}"), 404, 8)


@pytest.mark.parametrize("value", [str(HUGE), "-" + str(HUGE), "1_000", " 3"])
def test_integer_filters_out_of_range_are_refused(http: httpx.Client, project: str, value: str) -> None:
    response = http.get(f"/v1/projects/{project}/objects", params={"type": value})
    assert error_of(response) == (422, "invalid_request"), response.text


def test_integers_in_range_still_work(http: httpx.Client, project: str, obj: str) -> None:
    response = http.patch(f"/v1/projects/{project}/objects/{obj}", json={"subtype": 2**31 - 1})
    assert response.status_code == 200, response.text
    found = http.get(f"/v1/projects/{project}/objects", params={"subtype": str(2**31 - 1)}).json()
    assert [o["id"] for o in found["items"]] == [obj]


# Names as they go in the URL (already percent-encoded): a bidi override, spaces around, a
# trailing dot, bytes that are not UTF-8, a zero-width space.
BAD_FILE_NAMES = [
    "report%E2%80%AEtxt.exe",
    "%20lead.txt",
    "trail.txt%20",
    "trail.txt.",
    "bad%FF.txt",
    "a%E2%80%8Bb.txt",
]


@pytest.mark.parametrize("encoded", BAD_FILE_NAMES)
def test_misleading_file_names_are_refused(http: httpx.Client, encoded: str) -> None:
    before = digest(http)
    native = http.put(f"/v1/files/inbox/{encoded}", content=b"data")
    assert error_of(native) == (400, "invalid_file_name"), native.text
    q = {"q": json.dumps({"isFirst": True, "isLast": True, "chunkSize": 4, "fileSize": 4})}
    epm = http.post(f"{FILES}/{encoded}/contents", params=q, content=b"data")
    assert "not allowed" in epm_error(epm, 400, 5)
    assert digest(http) == before


def test_plain_unicode_file_names_are_still_accepted(http: httpx.Client) -> None:
    name = "Prévisions 2026 (été) 日本.txt"
    assert http.put(f"/v1/files/inbox/{name}", content=b"ok").status_code == 201
    assert http.get(f"/v1/files/inbox/{name}").content == b"ok"
    assert http.delete(f"/v1/files/inbox/{name}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/v1/records/jobConsole", {"json": {"items": [{"ts": "0001-01-01T00:00:00+14:00"}]}}),
        ("GET", "/v1/records/jobConsole?since=0001-01-01T00:00:00%2B14:00", {}),
        ("PUT", "/v1/files/inbox/early.txt?modified=0001-01-01T00:00:00%2B14:00", {"content": b"x"}),
    ],
)
def test_times_outside_the_calendar_in_utc_are_refused(
    http: httpx.Client, method: str, path: str, kwargs: dict[str, object]
) -> None:
    before = digest(http)
    assert error_of(http.request(method, path, **kwargs))[0] == 422
    assert digest(http) == before


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_numbers_json_does_not_have_are_refused(http: httpx.Client, number: bytes) -> None:
    body = b'{"type": 34, "name": "not-a-number", "definition": {"n": ' + number + b"}}"
    assert error_of(http.post("/v1/configuration-objects", content=body, headers=JSON)) == (400, "malformed_json")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/projects", rb'{"name": "a\ud800b"}'),
        ("/v1/projects", rb'{"name": "nul", "description": "a\u0000b"}'),
        ("/v1/configuration-objects", rb'{"type": 34, "name": "s", "definition": {"k\udfff": 1}}'),
        ("/v1/records/jobConsole", rb'{"items": [{"details": {"a": "\u0000"}}]}'),
    ],
)
def test_characters_nothing_can_store_are_refused(http: httpx.Client, path: str, body: bytes) -> None:
    """Lone surrogates once got stored on SQLite and then broke every digest and read of them."""
    before = digest(http)
    assert error_of(http.post(path, content=body, headers=JSON)) == (400, "malformed_json")
    assert digest(http) == before


def test_a_surrogate_pair_is_a_character_and_is_kept(http: httpx.Client) -> None:
    body = rb'{"type": 34, "name": "emoji \ud83d\ude00", "definition": {}}'
    response = http.post("/v1/configuration-objects", content=body, headers=JSON)
    assert response.status_code == 201 and response.json()["name"] == "emoji \U0001f600", response.text


NUL_URLS = [
    "/v1/users/a%00b",
    "/v1/operations/a%00b",
    "/v1/projects?name=a%00b",
    "/v1/backups/a%00b",
    "/v1/transfer/apply/a%00b",
    f"{PREFIX}/v1/services/restoreenvironment/status/1%00",
]


@pytest.mark.parametrize("path", NUL_URLS)
def test_nul_in_a_url_is_a_client_error(http: httpx.Client, path: str) -> None:
    """PostgreSQL cannot compare text holding NUL: refused (422) there, simply not found (or an
    empty list) on SQLite; never a 500."""
    response = http.get(path, headers={"x-envclone-receipt": "r"})
    if response.status_code == 200:
        assert response.json()["total"] == 0, response.text
    else:
        assert 400 <= response.status_code < 500, response.text


def test_nul_in_a_file_name_is_an_invalid_file_name(http: httpx.Client) -> None:
    q = {"q": json.dumps({"isFirst": True, "isLast": True, "chunkSize": 1, "fileSize": 1})}
    epm_error(http.post(f"{FILES}/a%00b/contents", params=q, content=b"x"), 400, 5)
    assert 400 <= http.get(f"{FILES}/a%00b").status_code < 500


def test_nul_in_a_user_name_is_a_failed_login(live_server: LiveServer) -> None:
    with live_server.anonymous() as anon:
        assert error_of(anon.get("/v1/auth/whoami", auth=("ad\x00min", "x"))) == (401, "invalid_credentials")


# --- found by schemathesis (tests/e2e/test_schemathesis.py) ---------------------------------------
@pytest.mark.parametrize("definition", [[1, 2], 3, "text", None])
def test_a_job_definition_must_be_an_object(live_server: LiveServer, http: httpx.Client, definition: object) -> None:
    """The Veeam dialect reads a job's settings by name: a list stored there broke GET /api/jobs."""
    body = {"name": f"fuzzed {definition!r}", "job_type": "Backup", "definition": definition}
    assert error_of(http.post("/v1/jobs", json=body)) == (422, "invalid_request")
    with em(live_server, log_on(live_server), json=True) as veeam:
        assert veeam.get("/jobs", params={"format": "Entity"}).status_code == 200
