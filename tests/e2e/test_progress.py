"""Progress follows the work (issue 13, point 1). Sampled every 0.2 s during daily maintenance, a
clone and a restore of an environment big enough for each to take seconds: the percent only
rises, is never 100 before the operation ended and is exactly 100 once it succeeded; the time
remaining only shrinks and is never negative; and ``GET /v1/operations`` (the list) shows what
``GET /v1/operations/{id}`` shows, read just before and just after it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, BACKENDS, LiveServer
from tests.e2e.client import TERMINAL, ok
from tests.e2e.conftest import TARGET_PASSWORD, Servers, seeded_server

SAMPLE_SECONDS = 0.2
DEADLINE = 90.0
BULK_FILES = 30  # MiB of incompressible inbox files: archiving, sending and staging take time
BULK_AUDIT = 50_000  # audit records: digests, export and replace take time
BATCH = 5_000


def add_bulk(http: httpx.Client) -> None:
    """On top of the small seed: enough for each operation to run a few seconds."""
    for i in range(BULK_FILES):
        ok(http.put(f"/v1/files/inbox/bulk-{i}.bin", content=os.urandom(1 << 20)), 201)
    for start in range(0, BULK_AUDIT, BATCH):
        items = [
            {"actor": f"user{n % 97}", "action": f"bulk-{n}", "subject": "progress follows the work"}
            for n in range(start, start + BATCH)
        ]
        ok(http.post("/v1/records/applicationAudit", json={"items": items}), 201)


@pytest.fixture(scope="module", params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_server(request, tmp_path_factory, "progress", request.param) as server:
        with server.client() as http:
            add_bulk(http)
        yield server


@pytest.fixture(scope="module")
def http(source: LiveServer) -> Iterator[httpx.Client]:
    with source.client() as client:
        yield client


def follow(http: httpx.Client, op_id: str, kind: str) -> list[dict[str, Any]]:
    """Every 0.2 s until it ends: the operation read alone, then in the list, then alone again.
    Returns the reads in the order they were made."""
    reads: list[dict[str, Any]] = []
    end = time.monotonic() + DEADLINE
    while True:
        reads.append(ok(http.get(f"/v1/operations/{op_id}")))
        listed = ok(http.get("/v1/operations", params={"kind": kind, "limit": 10}))["items"]
        reads += [op for op in listed if op["id"] == op_id]
        reads.append(ok(http.get(f"/v1/operations/{op_id}")))
        if reads[-1]["status"] in TERMINAL:
            return reads
        assert time.monotonic() < end, f"{kind} still running after {DEADLINE}s: {reads[-1]}"
        time.sleep(SAMPLE_SECONDS)


def check_progress(http: httpx.Client, reads: list[dict[str, Any]], kind: str) -> None:
    final = reads[-1]
    assert final["status"] == "succeeded", final
    assert sum(1 for r in reads if r["kind"] == kind) == len(reads)
    # The list was read between two single reads each time: it shows the same live progress.
    percents = [r["progress"]["percent"] for r in reads]
    assert percents == sorted(percents), percents
    unfinished = [r["progress"]["percent"] for r in reads if r["status"] != "succeeded"]
    assert all(0 <= p < 100 for p in unfinished), unfinished
    assert final["progress"]["percent"] == 100.0
    # Progress follows the work: it moves while the operation runs, not only at its end.
    took = dt.datetime.fromisoformat(final["ended"]) - dt.datetime.fromisoformat(final["started"])
    if took > dt.timedelta(seconds=2):  # ten samples and more
        assert len({p for p in unfinished if p > 0}) >= 3, percents
    remaining = [r["progress"]["seconds_remaining"] for r in reads]
    shown = [s for s in remaining if s is not None]
    assert all(s >= 0 for s in shown), remaining
    assert shown == sorted(shown, reverse=True), remaining
    assert final["progress"]["seconds_remaining"] is None
    listed = ok(http.get("/v1/operations", params={"kind": kind, "limit": 10}))["items"]
    assert [op["progress"] for op in listed if op["id"] == final["id"]] == [final["progress"]]


def test_daily_maintenance_progress(http: httpx.Client) -> None:
    op = ok(http.post("/v1/maintenance/run"), 202)
    reads = follow(http, op["id"], "dailyMaintenance")
    check_progress(http, reads, "dailyMaintenance")


def test_clone_progress_follows_the_target_apply(http: httpx.Client, source: LiveServer, servers: Servers) -> None:
    backend = "postgres" if source.database_url.startswith("postgresql") else "sqlite"
    target = servers.start(backend, password=TARGET_PASSWORD)
    body = {
        "target_url": target.url,
        "target_user": ADMIN,
        "target_password": TARGET_PASSWORD,
        "options": {"storedSnapshotsAndFiles": True},
    }
    op = ok(http.post("/v1/clone", json=body), 202)
    reads = follow(http, op["id"], "cloneEnvironment")
    check_progress(http, reads, "cloneEnvironment")
    # The target's apply feeds the source's apply phase: it moves there too, not only at the end.
    running = [r for r in reads if r["status"] != "succeeded"]
    applying = {r["progress"]["percent"] for r in running if r["progress"]["phase"] == "apply"}
    assert len(applying) >= 2, reads


def test_restore_progress(http: httpx.Client) -> None:
    backups = [b["name"] for b in ok(http.get("/v1/backups"))["items"] if b["kind"] == "environment_backup"]
    if not backups:
        maintenance = ok(http.post("/v1/maintenance/run"), 202)
        assert follow(http, maintenance["id"], "dailyMaintenance")[-1]["status"] == "succeeded"
        backups = [b["name"] for b in ok(http.get("/v1/backups"))["items"] if b["kind"] == "environment_backup"]
    # Something to restore: the backup's content differs from what is there now.
    ok(http.put(f"/v1/files/inbox/after-{tag()}.bin", content=os.urandom(1 << 20)), 201)
    body = {"backup_name": backups[0], "users": True, "stored_snapshots_and_files": True}
    op = ok(http.post("/v1/restore", json=body), 202)
    reads = follow(http, op["id"], "restoreEnvironment")
    check_progress(http, reads, "restoreEnvironment")


def test_the_cli_shows_the_servers_percent_and_no_negative_time(source: LiveServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    env.update({"ENVCLONE_URL": source.url, "ENVCLONE_USER": ADMIN, "ENVCLONE_PASSWORD": ADMIN_PASSWORD})
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    command = [sys.executable, "-m", "envclone.cli.main", "runDailyMaintenance", "-f"]
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "100%" in output and "runDailyMaintenance completed" in " ".join(output.split()), output
    assert "ETA -" not in output, output
