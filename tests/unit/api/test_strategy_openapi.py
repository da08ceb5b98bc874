"""The duplication and Storage Service routes show their contract in OpenAPI (bodies, parameters,
responses and errors: they read their bodies themselves, so FastAPI cannot infer them), and the
status casing follows the setting and the session's kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from envclone.api.strategy import auth
from envclone.server import build_context, create_app
from envclone.settings import load_settings

BASE = "/MicroStrategyLibrary/api"


def _app(tmp_path: Path, **settings: Any) -> Iterator[FastAPI]:
    ctx, _ = build_context(load_settings(data_dir=tmp_path, admin_password="pw-123456", scheduler=False, **settings))
    yield create_app(ctx)
    ctx.engine.shutdown()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    yield from _app(tmp_path_factory.mktemp("openapi"))


def _operation(app: FastAPI, method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = app.openapi()["paths"][BASE + path][method]
    return found


@pytest.mark.parametrize(
    ("method", "path", "media", "field"),
    [
        ("post", "/projectDuplications", "application/json", "settings"),
        ("put", "/projectDuplications/{dup_id}/status", "application/json", "status"),
        ("post", "/projectDuplications/restoration", "multipart/form-data", "metadata"),
        ("put", "/projectDuplications/{dup_id}", "multipart/form-data", "file"),
        ("post", "/mstrServices/library/storage/validation", "application/json", "sharedFileStore"),
        ("patch", "/mstrServices/library/storage", "application/json", "sharedFileStore"),
    ],
)
def test_bodies_are_declared(app: FastAPI, method: str, path: str, media: str, field: str) -> None:
    body = _operation(app, method, path)["requestBody"]
    assert body["required"] is True
    schema = body["content"][media]["schema"]
    assert field in schema["properties"], schema


def test_the_put_takes_the_request_or_a_cancel_or_a_package(app: FastAPI) -> None:
    operation = _operation(app, "put", "/projectDuplications/{dup_id}")
    options = operation["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [sorted(o["properties"]) for o in options] == [["settings", "source", "target"], ["status"]]
    assert {"201", "204", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    assert "import" in options[0]["properties"]["settings"]["properties"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/projectDuplications", {"201", "400", "401", "403", "404", "409"}),
        ("get", "/projectDuplications", {"200", "400", "401", "403"}),
        ("get", "/projectDuplications/{dup_id}", {"200", "401", "403", "404"}),
        ("delete", "/projectDuplications/{dup_id}", {"204", "401", "403", "404", "409"}),
        ("get", "/projectDuplications/{dup_id}/backup", {"200", "401", "403", "404", "409"}),
        ("get", "/projectDuplications/versions", {"200", "401", "403"}),
        ("post", "/projectDuplications/validations", {"204", "400", "401", "403"}),
        ("get", "/mstrServices/library/storage", {"200", "401", "403"}),
    ],
)
def test_responses_and_errors_are_declared(app: FastAPI, method: str, path: str, statuses: set[str]) -> None:
    responses = _operation(app, method, path)["responses"]
    assert statuses <= set(responses), sorted(responses)
    for status in statuses - {"200", "201", "204"}:
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_the_record_and_the_list_are_declared(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert set(schemas["Duplication"]["properties"]) == {
        "id", "source", "target", "createdDate", "lastUpdatedDate", "status", "progress", "message", "settings",
    }  # fmt: skip
    assert {"projectDuplications", "duplications", "total"} == set(schemas["DuplicationList"]["properties"])
    listing = _operation(app, "get", "/projectDuplications")
    assert {p["name"] for p in listing["parameters"]} >= {"offset", "limit"}
    package = _operation(app, "get", "/projectDuplications/{dup_id}/backup")["responses"]["200"]
    assert "application/octet-stream" in package["content"] and "Content-Disposition" in package["headers"]


def _request(app: FastAPI, kind: str | None) -> Request:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "app": app})
    if kind is not None:
        request.state.strategy_session_kind = kind
    return request


@pytest.mark.parametrize(
    ("case", "kind", "upper"),
    [
        ("session", auth.SESSION_KIND, False),
        ("session", auth.SDK_SESSION_KIND, True),
        ("lower", auth.SDK_SESSION_KIND, False),
        ("upper", auth.SESSION_KIND, True),
    ],
)
def test_status_case_follows_the_setting_and_the_session(tmp_path: Path, case: str, kind: str, upper: bool) -> None:
    for app in _app(tmp_path, strategy_status_case=case):
        assert auth.upper_case_status(_request(app, kind)) is upper
