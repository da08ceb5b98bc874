"""Every error of the project duplication document's table, and the Storage Service's, on real
servers in Strategy's error shape, each leaving the environment as it was: 400 INVALID_REQUEST
(bodies and parameters), 403 FORBIDDEN (a Viewer), 404 PROJECT_NOT_FOUND, 409 PROJECT_NAME_EXISTS,
ERR009 without a session, user fencing, a cross-environment request without a storage service, and
storage configurations that are refused (with their code) or only validated."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envclone.domain.duplication import USER_FENCING_KEY
from tests.builders import make_user, tag
from tests.conftest import LiveServer
from tests.e2e.client import digests, ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import Library, make_project, sample, start_library
from tests.e2e.strategy.library import API, login, session, strategy_error

STORAGE = "/mstrServices/library/storage"


@pytest.fixture(scope="module")
def lib(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"))


@pytest.fixture(scope="module")
def bare(servers: Servers) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server without a storage service."""
    server = servers.start()
    with session(server, login(server, application_type=None)) as client:
        yield server, client


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DROP:
        del node[last]
    else:
        node[last] = value
    return changed


_DROP = object()
BAD_BODIES = [
    ("target.project.name", _DROP),
    ("source.project.id", _DROP),
    ("source.project.id", "not-an-id"),
    ("target.environment", _DROP),
    ("settings.export.configurationObjects.rules", [{"type": 5, "rule": 2}]),  # type 5 takes 1 or 3
    ("settings.export.configurationObjects.rules", [{"type": 29, "rule": 1}]),  # types 5 and 34 only
    ("settings.import.configurationObjects.conflictRules", [{"type": 34, "rule": 4}]),
    ("settings.import.defaultLocale", 1036),  # not one of locales
    ("settings.import.locales", "1033"),
    ("settings.export.projectObjectsPreference.schemaObjectsOnly", "yes"),
]


@pytest.mark.parametrize(("path", "value"), BAD_BODIES, ids=[p for p, _ in BAD_BODIES])
def test_an_invalid_body_is_invalid_request(lib: Library, path: str, value: Any) -> None:
    project = make_project(lib.src_admin)
    env = lib.env(lib.source)
    body = _set(sample(env, env, project, f"Bad {tag()}"), path, value)
    before, listed = digests(lib.src_admin), ok(lib.src.get("/projectDuplications"))["total"]
    strategy_error(lib.src.post("/projectDuplications", json=body), 400, "INVALID_REQUEST")
    strategy_error(lib.tgt.put(f"/projectDuplications/{uuid.uuid4().hex}", json=body), 400, "INVALID_REQUEST")
    assert digests(lib.src_admin) == before
    assert ok(lib.src.get("/projectDuplications"))["total"] == listed


def test_malformed_requests_are_invalid_request(lib: Library) -> None:
    headers = {"Content-Type": "application/json"}
    strategy_error(lib.src.post("/projectDuplications", content=b"{", headers=headers), 400, "INVALID_REQUEST")
    strategy_error(lib.src.post("/projectDuplications", json=[1]), 400, "INVALID_REQUEST")
    strategy_error(lib.src.post("/projectDuplications", content=b""), 400, "INVALID_REQUEST")
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}):
        strategy_error(lib.src.get("/projectDuplications", params=params), 400, "INVALID_REQUEST")
    env = lib.env(lib.target)
    body = sample(lib.env(lib.source), env, make_project(lib.src_admin), f"Odd id {tag()}")
    strategy_error(lib.tgt.put("/projectDuplications/not-a-duplication-id", json=body), 400, "INVALID_REQUEST")
    restoration = "/projectDuplications/restoration"
    strategy_error(lib.tgt.post(restoration, json={"target": body["target"]}), 400, "INVALID_REQUEST")
    files = {"file": ("package.projdup", b"x")}
    strategy_error(lib.tgt.post(restoration, files=files, data={"metadata": "{"}), 400, "INVALID_REQUEST")
    strategy_error(lib.tgt.post(restoration, files=files, data={"metadata": "{}"}), 400, "INVALID_REQUEST")


def test_a_viewer_is_forbidden(lib: Library) -> None:
    viewer, password = make_user(lib.src_admin, "Viewer")
    project, env = make_project(lib.src_admin), lib.env(lib.source)
    with session(lib.source, login(lib.source, viewer, password, application_type=None)) as s:
        strategy_error(s.post("/projectDuplications", json=sample(env, env, project, f"V {tag()}")), 403, "FORBIDDEN")
        strategy_error(s.patch(STORAGE, json={"sharedFileStore": {"type": "unset"}}), 403, "FORBIDDEN")
        body = {"sharedFileStore": {"type": "file_system", "location": str(lib.shared)}}
        strategy_error(s.post(f"{STORAGE}/validation", json=body), 403, "FORBIDDEN")
    assert ok(lib.src.get(STORAGE))["sharedFileStore"]["configured"] is True


def test_an_unknown_source_project_is_project_not_found(lib: Library) -> None:
    env = lib.env(lib.source)
    body = sample(env, env, make_project(lib.src_admin), f"Nowhere {tag()}")
    body["source"]["project"]["id"] = uuid.uuid4().hex.upper()
    strategy_error(lib.src.post("/projectDuplications", json=body), 404, "PROJECT_NOT_FOUND")
    body = sample(env, lib.env(lib.target), make_project(lib.src_admin), f"Nowhere {tag()}")
    body["source"]["project"]["id"] = uuid.uuid4().hex.upper()
    strategy_error(lib.src.post("/projectDuplications", json=body), 404, "PROJECT_NOT_FOUND")


def test_a_taken_target_name_is_project_name_exists(lib: Library) -> None:
    project, taken = make_project(lib.src_admin), make_project(lib.src_admin)
    env = lib.env(lib.source)
    strategy_error(
        lib.src.post("/projectDuplications", json=sample(env, env, project, taken.name)), 409, "PROJECT_NAME_EXISTS"
    )
    on_target = make_project(lib.tgt_admin)
    body = sample(env, lib.env(lib.target), project, on_target.name)
    strategy_error(lib.tgt.put(f"/projectDuplications/{uuid.uuid4().hex}", json=body), 409, "PROJECT_NAME_EXISTS")


def test_an_unknown_duplication_is_not_found(lib: Library) -> None:
    unknown = uuid.uuid4().hex.upper()
    for response in (
        lib.src.get(f"/projectDuplications/{unknown}"),
        lib.src.get(f"/projectDuplications/{unknown}/backup"),
        lib.src.delete(f"/projectDuplications/{unknown}"),
        lib.src.put(f"/projectDuplications/{unknown}", json={"status": "cancelled"}),
    ):
        strategy_error(response, 404, "ERR004")


def test_no_session_is_err009(lib: Library) -> None:
    with (
        lib.source.anonymous() as anon,
        httpx.Client(base_url=lib.source.url + API, headers={"X-MSTR-AuthToken": "expired-or-made-up"}) as stale,
    ):
        for client, prefix in ((anon, API), (stale, "")):
            for method, path in (
                ("GET", "/projectDuplications"),
                ("POST", "/projectDuplications"),
                ("GET", f"/projectDuplications/{uuid.uuid4().hex}"),
                ("PUT", f"/projectDuplications/{uuid.uuid4().hex}/status"),
                ("POST", "/projectDuplications/restoration"),
                ("GET", "/projectDuplications/versions"),
                ("GET", STORAGE),
                ("PATCH", STORAGE),
            ):
                strategy_error(client.request(method, prefix + path, json={}), 401, "ERR009")


def test_storage_is_shown_validated_and_changed_only_when_valid(lib: Library, tmp_path: Path) -> None:
    shown = ok(lib.src.get(STORAGE))
    assert shown == {
        "sharedFileStore": {
            "type": "file_system",
            "alias": "shared",
            "location": str(lib.shared),
            "s3Region": shown["sharedFileStore"]["s3Region"],
            "configured": True,
        }
    }
    refused = [
        ({"type": "file_system", "location": str(tmp_path / "missing")}, "STORAGE_SERVICE_INVALID"),
        ({"type": "file_system", "location": "relative/folder"}, "STORAGE_SERVICE_INVALID"),
        (
            {"type": "Azure", "location": "account", "azureStorageAccountName": "a", "azureSecretKey": "s3cr3t"},
            "STORAGE_SERVICE_UNSUPPORTED",
        ),
        ({"type": "floppy", "location": str(tmp_path)}, "INVALID_REQUEST"),
        ({"type": "file_system", "location": 7}, "INVALID_REQUEST"),
    ]
    for config, code in refused:
        body = {"sharedFileStore": config}
        assert "s3cr3t" not in strategy_error(lib.src.post(f"{STORAGE}/validation", json=body), 400, code)["message"]
        strategy_error(lib.src.patch(STORAGE, json=body), 400, code)
    strategy_error(lib.src.patch(STORAGE, json={"storage": {}}), 400, "INVALID_REQUEST")
    # Validation takes the configuration as given; a PATCH lays it over the current one (the SDK
    # sends the whole configuration back), so a missing location keeps the current one.
    no_location = {"sharedFileStore": {"type": "file_system"}}
    strategy_error(lib.src.post(f"{STORAGE}/validation", json=no_location), 400, "STORAGE_SERVICE_INVALID")
    assert ok(lib.src.get(STORAGE)) == shown  # nothing refused was kept

    elsewhere = {"sharedFileStore": {"type": "file_system", "location": str(tmp_path)}}
    assert lib.src.post(f"{STORAGE}/validation", json=elsewhere).status_code == 204
    assert ok(lib.src.get(STORAGE)) == shown  # validating changes nothing


def test_without_a_storage_service_cross_environment_is_refused(
    bare: tuple[LiveServer, httpx.Client], lib: Library
) -> None:
    server, client = bare
    assert ok(client.get(STORAGE))["sharedFileStore"]["configured"] is False
    listed = ok(client.get("/projectDuplications"))["total"]
    with server.client() as admin:
        project = make_project(admin)
    body = sample(server.url + "/MicroStrategyLibrary", lib.env(lib.target), project, f"Far {tag()}")
    message = strategy_error(client.post("/projectDuplications", json=body), 400, "STORAGE_SERVICE_NOT_CONFIGURED")
    assert "storage" in str(message["message"]).lower()
    refused = client.put(f"/projectDuplications/{uuid.uuid4().hex}", json=body)
    strategy_error(refused, 400, "STORAGE_SERVICE_NOT_CONFIGURED")
    assert ok(client.get("/projectDuplications"))["total"] == listed


def _fencing(server: LiveServer, on: bool) -> None:
    """User fencing is an environment setting, switched as any other (PATCH /v1/settings)."""
    with server.client() as admin:
        assert ok(admin.patch("/v1/settings", json={USER_FENCING_KEY: on}))[USER_FENCING_KEY] is on


def test_user_fencing_refuses_the_duplication_endpoints(bare: tuple[LiveServer, httpx.Client]) -> None:
    server, client = bare
    with server.client() as admin:
        project = make_project(admin)
    env = server.url + "/MicroStrategyLibrary"
    body = sample(env, env, project, f"Fenced {tag()}")
    _fencing(server, True)
    try:
        for response in (
            client.post("/projectDuplications", json=body),
            client.get("/projectDuplications"),
            client.get(f"/projectDuplications/{uuid.uuid4().hex}"),
        ):
            error = strategy_error(response, 403, "USER_FENCING_ENABLED")
            assert "fencing" in str(error["message"]).lower()
    finally:
        _fencing(server, False)
    assert ok(client.post("/projectDuplications", json=body), 201)["status"] in {"exporting", "importing", "completed"}
