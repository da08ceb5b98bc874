"""The EPM Automate style commands of the CLI, run as a subprocess against a real server: each
command's output and exit code, key=value options matched case-insensitively, refused arguments
(exit 2), server errors printed verbatim (markup escaped) with their exit codes, and a failed job."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.chunk_damage import damage_every_chunk
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer

FILES = "/interop/rest/11.1.2.3.600/applicationsnapshots"


def run_cli(server: LiveServer | None, *args: str, password: str = ADMIN_PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    env.update({"ENVCLONE_USER": ADMIN, "ENVCLONE_PASSWORD": password, "COLUMNS": "200", "NO_COLOR": "1"})
    if server is not None:
        env["ENVCLONE_URL"] = server.url
    return subprocess.run(
        [sys.executable, "-m", "envclone.cli.main", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def expect(result: subprocess.CompletedProcess[str], code: int, *texts: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == code, f"exit {result.returncode}:\n{output}"
    flat = " ".join(output.split())
    for text in texts:
        assert text in flat, f"{text!r} not in:\n{output}"
    return output


def backups(server: LiveServer) -> list[str]:
    """The server's backups, taking one first if it has none (tests may run in any order)."""
    names = [line for line in expect(run_cli(server, "listBackups"), 0).splitlines() if "/" in line]
    if not names:
        expect(run_cli(server, "runDailyMaintenance", "-f"), 0, "runDailyMaintenance completed")
        names = [line for line in expect(run_cli(server, "listBackups"), 0).splitlines() if "/" in line]
    return names


def snapshot_names(server: LiveServer) -> set[str]:
    with server.client() as http:
        return {item["name"] for item in http.get(FILES).json()["items"]}


def test_maintenance_time_commands(sqlite_server: LiveServer) -> None:
    expect(run_cli(sqlite_server, "setDailyMaintenanceStartTime", "03:30"), 0, "03:30")
    expect(run_cli(sqlite_server, "getDailyMaintenanceStartTime"), 0, "03:30 UTC")
    expect(run_cli(sqlite_server, "setDailyMaintenanceStartTime", "25:00"), 2, "'25:00' is not a valid start time")
    expect(run_cli(sqlite_server, "getDailyMaintenanceStartTime"), 0, "03:30")


def test_run_daily_maintenance_and_list_backups(sqlite_server: LiveServer) -> None:
    expect(run_cli(sqlite_server, "listBackups"), 0)
    expect(run_cli(sqlite_server, "runDailyMaintenance"), 2, "pass -f")
    expect(run_cli(sqlite_server, "runDailyMaintenance", "-f", "colour=red"), 2, "unknown option 'colour=red'")
    expect(run_cli(sqlite_server, "runDailyMaintenance", "-f", "skipNext=maybe"), 2, "skipNext must be true or false")
    expect(run_cli(sqlite_server, "runDailyMaintenance", "-f", "SKIPNEXT=False"), 0, "runDailyMaintenance completed")
    names = backups(sqlite_server)
    assert any(n.endswith("/Artifact_Snapshot.zip") for n in names)
    assert any(n.endswith("/Environment_Backup") for n in names)


def test_restore_backup(sqlite_server: LiveServer) -> None:
    snapshot = next(n for n in backups(sqlite_server) if n.endswith("/Artifact_Snapshot.zip"))
    target = f"cli-{uuid.uuid4().hex[:8]}"
    expect(run_cli(sqlite_server, "restoreBackup", snapshot, f"TargetName={target}"), 0, "restoreBackup completed")
    assert target in snapshot_names(sqlite_server)
    expect(run_cli(sqlite_server, "restoreBackup", snapshot, f"targetname={target}"), 5, "already exists")
    expect(run_cli(sqlite_server, "restoreBackup", snapshot, "name=x"), 2, "unknown option 'name=x'")
    expect(run_cli(sqlite_server, "restoreBackup", "[bold]nope[/bold]"), 4, "backup [bold]nope[/bold] not found")


def test_restore_environment(sqlite_server: LiveServer) -> None:
    backup = [n for n in backups(sqlite_server) if n.endswith("/Environment_Backup")][-1]
    expect(run_cli(sqlite_server, "setDailyMaintenanceStartTime", "03:30"), 0, "03:30")
    options = ("usersandpredefinedroles=FALSE", "StoredSnapshotsAndFiles=true", "dailyMaintenanceStartTime=false")
    expect(run_cli(sqlite_server, "restoreEnvironment", backup, *options), 0, "restoreEnvironment completed")
    expect(run_cli(sqlite_server, "getDailyMaintenanceStartTime"), 0, "03:30")
    expect(run_cli(sqlite_server, "restoreEnvironment", backup, "StoredSnapshotsAndFiles=yes"), 2, "true or false")
    expect(run_cli(sqlite_server, "restoreEnvironment", backup, "Users=true"), 2, "unknown option")
    expect(run_cli(sqlite_server, "restoreEnvironment", "2001-01-01T00:00:00/Environment_Backup"), 4, "not found")


def test_verify_and_connection_errors(sqlite_server: LiveServer) -> None:
    expect(run_cli(sqlite_server, "verify"), 0, "verify", "completed successfully")
    backup = backups(sqlite_server)[0]
    expect(run_cli(sqlite_server, "verify", backup), 0, f"verify {backup} completed successfully")
    expect(run_cli(sqlite_server, "verify", "no-such-backup"), 4, "not found")
    expect(run_cli(sqlite_server, "listBackups", password="wrong"), 3, "incorrect")
    expect(run_cli(None, "listBackups"), 2, "--url")
    expect(run_cli(None, "listBackups", "--url", "http://127.0.0.1:9"), 1, "cannot reach")


def test_verify_of_a_damaged_backup_fails(make_server: Callable[..., LiveServer]) -> None:
    server = make_server("sqlite")
    with server.client() as http:
        http.put("/v1/files/inbox/data.csv", content=os.urandom(200_000)).raise_for_status()
    expect(run_cli(server, "verify"), 4, "no Environment Backup")
    expect(run_cli(server, "runDailyMaintenance", "-f"), 0, "completed successfully")
    assert damage_every_chunk(Path(server.data_dir, "blobs")), "the backup has chunks on disk"
    output = expect(run_cli(server, "verify"), 1, "failed", "is damaged")
    assert "completed successfully" not in output
    with httpx.Client(base_url=server.url, auth=(ADMIN, ADMIN_PASSWORD)) as http:
        backup = http.get("/v1/backups", params={"kind": "environment_backup"}).json()["items"][-1]["name"]
        assert http.get(f"/v1/backups/{backup}/verify").json()["result"]["ok"] is False
