"""Hostile input that once made the server answer 500: each is refused with the dialect's client
error, and the environment's content is unchanged."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import LiveServer
from tests.e2e.client import FILES, PREFIX, digest, epm_error, error_of
from tests.e2e.strategy.library import API, strategy_error

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
