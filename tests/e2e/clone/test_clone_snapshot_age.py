"""A clone says which snapshot it sent and how old it was, and warns when the source changed since
that snapshot was taken (issue 13, "a stale source is silent"): a clone run after changing the
source without a new daily maintenance sends the old Artifact Snapshot, and before this the clone
reported plain success while the target lacked the changes. The native result has the snapshot,
its age and the changed components; the EPM status keeps the documented fields and puts the
warning in ``details``; the CLI prints both. A clone from a fresh snapshot has no warning."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.builders import make_user, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, BACKENDS, LiveServer
from tests.e2e.client import PREFIX, digests, ok, wait_job
from tests.e2e.clone import CLONE, check_succeeded, epm_body, latest_clone, poll_status
from tests.e2e.conftest import Servers

OPTIONS = {"migrateUsers": True}  # users are in the Artifact Snapshot: clone them too


def maintenance(http: httpx.Client) -> str:
    """Run daily maintenance; returns the newest Artifact Snapshot's name."""
    started = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance", json={}))
    assert wait_job(http, started["links"][0]["href"])["status"] == 0
    items: list[str] = ok(http.get(f"{PREFIX}/v2/backups/list"))["items"]
    return sorted(b for b in items if b.endswith("/Artifact_Snapshot.zip"))[-1]


def epm_clone(src: httpx.Client, target: LiveServer) -> dict[str, Any]:
    """Clone through the EPM API with the target's admin (its password is the source's, so that
    migrating users keeps it); returns the final status body."""
    ok(src.post(CLONE, json=epm_body(target, ADMIN_PASSWORD, OPTIONS)))
    return poll_status(src)


def preview_body(target: LiveServer) -> dict[str, Any]:
    return {"target_url": target.url, "target_user": ADMIN, "target_password": ADMIN_PASSWORD, "options": OPTIONS}


def cli_clone(source: LiveServer, target: LiveServer, *extra: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    env["COLUMNS"] = "200"
    env["ENVCLONE_TARGET_PASSWORD"] = ADMIN_PASSWORD  # not on the command line, where it draws a warning
    command = [
        sys.executable, "-m", "envclone.cli.main", "cloneEnvironment", f"TARGET_USERNAME={ADMIN}",
        f"TARGET_URL={target.url}", "UsersAndPreDefinedRoles=true",
        "--url", source.url, "-u", ADMIN, "-p", ADMIN_PASSWORD, *extra,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, timeout=300)
    raw = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    return done.returncode, " ".join(raw.split())


def seconds_between(earlier: str, later: str) -> float:
    return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()


def check_snapshot(result: dict[str, Any], final: dict[str, Any], name: str, changed: set[str]) -> None:
    """The native result: the snapshot sent, its kind and creation time (the EPM status's
    backupCreatedTime), its age when the clone started, and what changed since."""
    snapshot = result["snapshot"]
    assert set(snapshot) == {"name", "kind", "created", "ageSeconds", "changedSince", "stale"}, snapshot
    assert (snapshot["name"], snapshot["kind"]) == (name, "artifact_snapshot"), snapshot
    assert snapshot["created"] == final["backupCreatedTime"] == result["backupCreatedTime"], (snapshot, final)
    expected_age = seconds_between(final["backupCreatedTime"], final["cloneStartTime"])
    assert abs(snapshot["ageSeconds"] - expected_age) <= 5, (snapshot, final)
    assert set(snapshot["changedSince"]) == changed and len(snapshot["changedSince"]) == len(changed), snapshot
    assert snapshot["stale"] is bool(changed), snapshot


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_clone_reports_its_snapshot_and_warns_when_the_source_changed_since(servers: Servers, backend: str) -> None:
    source, target = servers.start(backend, demo=True), servers.start()
    with source.client() as src, target.client() as tgt:
        first = maintenance(src)

        # fresh: the snapshot is reported, no warning, the documented completion body unchanged
        preview = ok(src.post("/v1/clone/preview", json=preview_body(target)))
        assert preview["snapshot"]["stale"] is False and preview["warnings"] == [], preview
        final = epm_clone(src, target)
        check_succeeded(final, {"migrateUsers": "Success"})
        assert final["backupName"] == first
        result = latest_clone(src)["result"]
        check_snapshot(result, final, first, set())
        assert result["warnings"] == []

        # the source changes (an artifact and a user), no maintenance runs: the clone still sends
        # the old snapshot, and now says so
        ok(src.post("/v1/projects", json={"name": f"after-snapshot-{tag()}"}), 201)
        make_user(src, "Viewer")
        # the preview says so before the clone, as the clone's plan is the same
        preview = ok(src.post("/v1/clone/preview", json=preview_body(target)))
        assert preview["ok"] and preview["backupName"] == first, preview
        assert preview["snapshot"]["name"] == first and preview["snapshot"]["stale"] is True, preview
        assert set(preview["snapshot"]["changedSince"]) == {"artifacts", "users"}, preview
        assert len(preview["warnings"]) == 1 and "changed since the snapshot" in preview["warnings"][0], preview
        code, out = cli_clone(source, target, "--dry-run")
        assert code == 0 and f"snapshot to send: {first} (Artifact Snapshot)" in out, out
        assert "warning: the source environment changed since the snapshot" in out, out
        final = epm_clone(src, target)
        details = final["details"]
        check_succeeded({**final, "details": None}, {"migrateUsers": "Success"})
        assert final["status"] == 0 and final["backupName"] == first, final
        assert isinstance(details, str) and details.isascii(), final
        assert f"the source environment changed since the snapshot {first} was taken" in details, details
        assert "artifacts, users" in details and "runDailyMaintenance" in details, details
        result = latest_clone(src)["result"]
        check_snapshot(result, final, first, {"artifacts", "users"})
        assert result["warnings"] == [details]
        # what the warning says is what happened: the target lacks exactly those changes
        live, there = digests(src), digests(tgt)
        assert {c for c in ("artifacts", "configuration", "jobs", "users") if live[c] != there[c]} == {
            "artifacts",
            "users",
        }

        # the CLI prints the snapshot, its age and the warning; it still succeeds
        code, out = cli_clone(source, target)
        assert code == 0, out
        assert f"snapshot used: {first} (Artifact Snapshot), taken {final['backupCreatedTime']} UTC" in out, out
        assert "warning: the source environment changed since the snapshot" in out, out
        assert "its artifacts, users differ from the snapshot's" in out, out
        assert "cloneEnvironment completed successfully" in out, out

        # after a maintenance the clone is fresh again: no warning anywhere, the target is current
        second = maintenance(src)
        assert second != first
        code, out = cli_clone(source, target)
        assert code == 0, out
        assert f"snapshot used: {second} (Artifact Snapshot)" in out and "warning" not in out, out
        final = epm_clone(src, target)
        check_succeeded(final, {"migrateUsers": "Success"})
        result = latest_clone(src)["result"]
        check_snapshot(result, final, second, set())
        assert result["warnings"] == []
        live, there = digests(src), digests(tgt)
        assert all(live[c] == there[c] for c in ("artifacts", "configuration", "jobs", "users"))
