"""What the CLI tells its user, run as a subprocess against real servers: an unknown key=value
option is answered with the option names the README documents for that command; help shows no
type a user cannot type; the clone says truthfully what it sent; ``envclone demo`` stops with both
of its servers on SIGINT or SIGTERM (even when started with SIGINT ignored, as a shell starts a
background command), and ``--exit`` does not invite anyone to log in to servers it stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import TARGET_PASSWORD, Servers
from tests.e2e.test_cli_epm_automate import expect, run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = (
    "serve",
    "demo",
    "seed",
    "diff",
    "listBackups",
    "runDailyMaintenance",
    "restoreEnvironment",
    "restoreBackup",
    "setDailyMaintenanceStartTime",
    "getDailyMaintenanceStartTime",
    "verify",
    "cloneEnvironment",
)


def documented_options(command: str) -> list[str]:
    """The key=value option names the README's CLI table gives ``command``, in its order."""
    line = next(row for row in README.read_text().splitlines() if row.startswith(f"| `envclone {command} "))
    usage = line.split("`")[1]
    return re.findall(r"\[?([A-Za-z_]+)=", usage)


def taken(output: str) -> list[str]:
    """The option names an "unknown option" message lists."""
    found = re.search(r"this command takes (.*?) \(as key=value\)", " ".join(output.split()))
    assert found, output
    return found.group(1).split(", ")


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("cloneEnvironment", ()),
        ("restoreEnvironment", ("2001-01-01T00:00:00/Environment_Backup",)),
        ("restoreBackup", ("2001-01-01T00:00:00/Artifact_Snapshot.zip",)),
        ("runDailyMaintenance", ("-f",)),
    ],
)
def test_an_unknown_option_is_answered_with_the_documented_names(
    sqlite_server: LiveServer, command: str, arguments: tuple[str, ...]
) -> None:
    output = expect(run_cli(sqlite_server, command, *arguments, "colour=red"), 2, "unknown option 'colour=red'")
    names = taken(output)
    assert names == documented_options(command), output
    assert len(set(names)) == len(names), output


def test_a_wrong_value_names_the_option_as_documented(sqlite_server: LiveServer) -> None:
    expect(run_cli(sqlite_server, "cloneEnvironment", "migrateUsers=maybe"), 2, "UsersAndPreDefinedRoles must be")
    backup = "2001-01-01T00:00:00/Environment_Backup"
    args = ("restoreEnvironment", backup, "storedsnapshotsandfiles=yes")
    expect(run_cli(sqlite_server, *args), 2, "StoredSnapshotsAndFiles must be true or false")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_for_a_flag(command: str) -> None:
    output = expect(run_cli(None, command, "--help"), 0, "--help", "Show this message and exit.")
    assert "<bool>" not in output, output
    if command == "verify":  # help text in brackets was taken for markup and dropped
        assert "(default: the latest Environment Backup)" in " ".join(output.split()), output


def test_the_clone_says_what_it_sent(servers: Servers) -> None:
    pair = servers.pair()
    command = (
        "cloneEnvironment",
        f"TARGET_USERNAME={ADMIN}",
        f"TARGET_PASSWORD={TARGET_PASSWORD}",
        f"TARGET_URL={pair.target.url}",
        "--url",
        pair.source.url,
    )
    first = expect(run_cli(None, *command), 0, "cloneEnvironment completed successfully")
    flat = " ".join(first.split())
    assert re.search(r"sent [\d,]+ bytes in all \d+ chunks", flat), first
    assert "the target had the rest" not in flat, first
    again = " ".join(expect(run_cli(None, *command), 0, "cloneEnvironment completed successfully").split())
    assert re.search(r"sent nothing: the target already had all \d+ chunks", again), again


# --- envclone demo ------------------------------------------------------------------------------------
def start_demo(directory: Path, *options: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    """``envclone demo``; with ``ignore_sigint`` started as a shell starts a background command
    ("&"): with SIGINT ignored, which the demo inherits across exec."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    command = [sys.executable, "-m", "envclone.cli.main", "demo", "--directory", str(directory), *options]
    if ignore_sigint:
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def server_urls(output: str) -> list[str]:
    found = re.search(r"starting source (\S+) .* and target (\S+) under", " ".join(output.split()))
    assert found, output
    return [found.group(1), found.group(2)]


def running(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def read_until(process: subprocess.Popen[str], text: str, deadline: float = 400) -> str:
    """The demo's output up to the line holding ``text`` (bounded)."""
    assert process.stdout is not None
    seen: list[str] = []
    end = time.monotonic() + deadline
    for line in process.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
        assert time.monotonic() < end, "".join(seen)
    raise AssertionError(f"the demo ended (exit {process.wait()}) before printing {text!r}:\n{''.join(seen)}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_stops_with_its_servers_on_a_signal(tmp_path: Path, signum: signal.Signals) -> None:
    process = start_demo(tmp_path / "demo", ignore_sigint=True)
    try:
        output = read_until(process, "press Ctrl-C to stop them")
        urls = server_urls(output)
        assert "log in to either with admin" in output, output
        assert all(running(url) for url in urls), output
        sent = time.monotonic()
        process.send_signal(signum)
        code = process.wait(15)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert took < 10, f"the demo took {took:.1f}s to stop"
    assert code == 0, code
    assert not any(running(url) for url in urls), "a server outlived the demo"


def test_demo_exit_stops_its_servers_and_says_so(tmp_path: Path) -> None:
    process = start_demo(tmp_path / "demo", "--exit")
    try:
        assert process.stdout is not None
        output = process.stdout.read()
        code = process.wait(400)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, output
    assert "exact copy" in output, output
    assert "log in" not in output and ADMIN_PASSWORD not in output, output
    assert f"both servers stopped; their data stays under {tmp_path / 'demo'}" in " ".join(output.split()), output
    assert not any(running(url) for url in server_urls(output)), output
