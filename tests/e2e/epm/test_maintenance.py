"""Daily maintenance in the EPM dialect against real servers on SQLite and PostgreSQL: reading and
setting the start time (v2 and the older v1 forms), running maintenance now, the names of the
archives it makes, how little a run after no change stores, and retention."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.builders import make_user
from tests.conftest import BACKENDS, LiveServer
from tests.e2e.client import (
    MAINTENANCE_HREF,
    MAINTENANCE_STEPS,
    PREFIX,
    digests,
    epm_error,
    job_link,
    ok,
    poll,
    run_maintenance,
)
from tests.e2e.conftest import seeded_server

GET_V2 = f"{PREFIX}/v2/maintenance/getdailymaintenancestarttime"
SET_V2 = f"{PREFIX}/v2/maintenance/setdailymaintenancestarttime"
RUN_V2 = f"{PREFIX}/v2/maintenance/rundailymaintenance"
V1 = f"{PREFIX}/v1/services/dailymaintenance"
WINDOW_V1 = f"{PREFIX}/v1/services/maintenancewindow"
LIST = f"{PREFIX}/v2/backups/list"
NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/(Artifact_Snapshot\.zip|Environment_Backup)$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAINTENANCE_DONE: dict[str, Any] = {
    "details": None,
    "status": 0,
    "items": None,
    "links": None,
    "intermittentStatus": [{step: "Success"} for step in MAINTENANCE_STEPS],
}


def chunk_bytes(server: LiveServer) -> int:
    """Bytes the chunk store holds, in either layout: pack files and their index, or one file per
    chunk."""
    roots = [server.data_dir / "blobs" / folder for folder in ("chunks", "packs", "index")]
    return sum(p.stat().st_size for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def listed(http: httpx.Client) -> list[str]:
    body = ok(http.get(LIST))
    assert (body["status"], body["details"]) == (0, None), body
    assert body["links"][0]["rel"] == "self"
    items: list[str] = body["items"]
    return items


def start_time(http: httpx.Client, path: str = GET_V2) -> tuple[str, str]:
    body = ok(http.get(path))
    assert body["status"] == 0 and body["items"] is None, body
    assert HHMM.match(body["dailyMaintenanceStartTime"]), body
    return body["dailyMaintenanceStartTime"], body["timeZone"]


@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    first_run_growth: int  # bytes of chunks the first maintenance run of the seeded environment stored


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    keep_all = {"ENVCLONE_BACKUP_RETENTION": "1000"}
    with (
        seeded_server(request, tmp_path_factory, "maintenance", request.param, **keep_all) as server,
        server.client() as http,
    ):
        assert chunk_bytes(server) == 0 and listed(http) == []
        run_maintenance(http, server)
        yield Env(server, http, chunk_bytes(server))


# --- start time -------------------------------------------------------------------------------------
def test_get_start_time(env: Env) -> None:
    body = ok(env.http.get(GET_V2))
    assert {"details", "status", "items", "links", "dailyMaintenanceStartTime"} <= set(body), body
    assert (body["status"], body["details"], body["items"]) == (0, None, None)
    assert body["links"][0]["href"].endswith(GET_V2)
    native = ok(env.http.get("/v1/maintenance/start-time"))
    assert start_time(env.http) == (native["start_time"], native["time_zone"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14:00 America/Los_Angeles", ("14:00", "America/Los_Angeles")),
        ("23:59 UTC", ("23:59", "UTC")),
        ("00:00 Asia/Kolkata", ("00:00", "Asia/Kolkata")),
    ],
)
def test_set_start_time(env: Env, value: str, expected: tuple[str, str]) -> None:
    body = ok(env.http.put(SET_V2, json={"startTime": value}))
    assert body["status"] == 0 and (body["dailyMaintenanceStartTime"], body["timeZone"]) == expected, body
    assert start_time(env.http) == expected
    assert start_time(env.http, V1) == expected
    native = ok(env.http.get("/v1/maintenance/start-time"))
    assert (native["start_time"], native["time_zone"]) == expected


def test_a_time_without_a_zone_keeps_the_zone(env: Env) -> None:
    ok(env.http.put(SET_V2, json={"startTime": "14:00 America/Los_Angeles"}))
    body = ok(env.http.put(SET_V2, json={"startTime": "03:30"}))
    assert (body["dailyMaintenanceStartTime"], body["timeZone"]) == ("03:30", "America/Los_Angeles")
    assert start_time(env.http) == ("03:30", "America/Los_Angeles")


@pytest.mark.parametrize(
    "value",
    ["25:00", "ab", "14:00 Mars/Olympus_Mons", "24:00", "12:60", "", "14:00:00", "-1:00", "14h00"],
)
def test_invalid_start_time_is_refused_and_changes_nothing(env: Env, value: str) -> None:
    http = env.http
    ok(http.put(SET_V2, json={"startTime": "06:15 Europe/Paris"}))
    before, digest = start_time(http), digests(http)
    details = epm_error(http.put(SET_V2, json={"startTime": value}), 422, 2)
    assert "startTime" in details or (value and value.split()[-1] in details), details
    assert start_time(http) == before == ("06:15", "Europe/Paris")
    assert digests(http) == digest


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [(b'{"startTime": ', 400, 3), (b"", 400, 3), (b'{"start": "03:00"}', 422, 2), (b'{"startTime": 3}', 422, 2)],
    ids=["malformed", "empty", "missing", "number"],
)
def test_malformed_start_time_requests(env: Env, body: bytes, status: int, code: int) -> None:
    before = start_time(env.http)
    epm_error(env.http.put(SET_V2, content=body, headers={"Content-Type": "application/json"}), status, code)
    assert start_time(env.http) == before


def test_only_a_service_administrator_sets_the_start_time(env: Env) -> None:
    http, server = env.http, env.server
    before = start_time(http)
    login, password = make_user(http, "Migrations - Administer", "Power User")
    with server.client(login, password) as caller:
        assert start_time(caller) == before  # reading is allowed
        epm_error(caller.put(SET_V2, json={"startTime": "09:00"}), 403, 7)
        epm_error(caller.put(V1, params={"StartTime": "09:00"}), 403, 7)
    with server.anonymous() as anonymous:
        epm_error(anonymous.put(SET_V2, json={"startTime": "09:00"}), 401, 6)
        epm_error(anonymous.get(GET_V2), 401, 6)
    assert start_time(http) == before


def test_v1_start_time_forms(env: Env) -> None:
    http = env.http
    body = ok(http.put(f"{V1}?StartTime=03:00"))
    assert (body["status"], body["dailyMaintenanceStartTime"]) == (0, "03:00"), body
    assert start_time(http, V1)[0] == start_time(http)[0] == "03:00"
    body = ok(http.put(V1, params={"StartTime": "21:45 Australia/Sydney"}))
    assert (body["dailyMaintenanceStartTime"], body["timeZone"]) == ("21:45", "Australia/Sydney")
    assert start_time(http) == ("21:45", "Australia/Sydney")
    for bad in ("25:00", "ab", "03:00 Nowhere/Land"):
        epm_error(http.put(V1, params={"StartTime": bad}), 422, 2)
    epm_error(http.put(V1), 422, 2)
    assert start_time(http) == ("21:45", "Australia/Sydney")


# --- running maintenance ----------------------------------------------------------------------------
def test_rundailymaintenance_makes_a_snapshot_and_a_backup(env: Env) -> None:
    http, server = env.http, env.server
    before = listed(http)
    body = ok(http.post(RUN_V2))
    assert body == {"details": None, "status": -1, "items": None, "links": body["links"]}
    href, job = job_link(body, server, MAINTENANCE_HREF)
    assert poll(http, href, MAINTENANCE_STEPS) == MAINTENANCE_DONE
    result = ok(http.get(f"/v1/operations/{job}"))["result"]
    new = [name for name in listed(http) if name not in before]
    assert sorted(new) == sorted([result["artifactSnapshot"], result["environmentBackup"]])
    matches = [NAME.match(name) for name in new]
    assert all(matches), new
    assert {m.group(2) for m in matches if m} == {"Artifact_Snapshot.zip", "Environment_Backup"}
    assert len({m.group(1) for m in matches if m}) == 1, "both archives of one run carry the same time"
    assert result["environmentBackup"].endswith("/Environment_Backup")
    # The backup records what the environment was, component by component.
    assert ok(http.get(f"/v1/backups/{result['environmentBackup']}"))["digests"] == digests(http)
    # Its status stays readable once ended.
    assert ok(http.get(href)) == MAINTENANCE_DONE


def test_v1_maintenancewindow_runs_maintenance(env: Env) -> None:
    http, server = env.http, env.server
    before = listed(http)
    body = ok(http.post(WINDOW_V1))
    assert (body["status"], body["details"]) == (-1, None), body
    href, _ = job_link(body, server, MAINTENANCE_HREF)
    assert poll(http, href, MAINTENANCE_STEPS) == MAINTENANCE_DONE
    new = [name for name in listed(http) if name not in before]
    assert len(new) == 2 and all(NAME.match(name) for name in new), new
    epm_error(http.post(WINDOW_V1, params={"skipNext": "maybe"}), 422, 2)
    assert listed(http) == before + new


def test_maintenance_needs_a_migration_role(env: Env) -> None:
    http, server = env.http, env.server
    before = listed(http)
    login, password = make_user(http, "Viewer")
    with server.client(login, password) as viewer:
        epm_error(viewer.post(RUN_V2), 403, 7)
        epm_error(viewer.post(WINDOW_V1), 403, 7)
        epm_error(viewer.get(LIST), 403, 7)
    assert listed(http) == before


def test_a_run_after_no_change_stores_almost_nothing(env: Env) -> None:
    http, server = env.http, env.server
    assert env.first_run_growth > 1024 * 1024  # the seeded content: megabytes of chunks
    run_maintenance(http, server)
    stored = chunk_bytes(server)
    result = run_maintenance(http, server)
    growth = chunk_bytes(server) - stored
    assert growth <= env.first_run_growth // 100, (growth, env.first_run_growth)
    assert result["bytesReused"] > 0
    assert result["bytesReused"] >= 0.99 * result["bytes"], result


# --- retention --------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_retention_keeps_the_newest_of_each_kind(make_server: Any, backend: str) -> None:
    server: LiveServer = make_server(backend=backend, extra_env={"ENVCLONE_BACKUP_RETENTION": "2"})
    with server.client() as http:
        runs = [run_maintenance(http, server) for _ in range(3)]
        names = listed(http)
        assert len(names) == 4, names
        kept = {r[kind] for r in runs[1:] for kind in ("artifactSnapshot", "environmentBackup")}
        assert set(names) == kept, f"runs {runs}: kept {names}"
        assert sorted(runs[2]["pruned"]) == sorted([runs[0]["artifactSnapshot"], runs[0]["environmentBackup"]])
        assert [b["name"] for b in ok(http.get("/v1/backups", params={"kind": "environment_backup"}))["items"]] == [
            runs[1]["environmentBackup"],
            runs[2]["environmentBackup"],
        ]
        epm_error(http.get(f"/interop/rest/v1/services/restoreenvironment/status/{10**9}"), 404, 8)
        gone = runs[0]["environmentBackup"]
        epm_error(http.post("/interop/rest/v1/services/restoreenvironment", json={"backupName": gone}), 404, 8)
