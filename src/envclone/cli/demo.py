"""``envclone demo``: two environments on loopback, the first seeded, cloned to the second through
the EPM clone API with the steps shown live, and equality proved by digests. The servers are real
``envclone serve`` processes; they keep running until Ctrl-C unless --exit is given."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from envclone.cli._epm_client import CommandError, EpmClient, report

console = Console()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int, password: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ENVCLONE_ADMIN_PASSWORD": password, "ENVCLONE_DATA_DIR": str(data_dir)}
    env.pop("ENVCLONE_DATABASE_URL", None)
    env.pop("ENVCLONE_BLOB_URL", None)
    log = (data_dir.parent / f"{data_dir.name}.log").open("ab")
    command = [
        sys.executable,
        "-m",
        "envclone.cli.main",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
        *args,
    ]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx  # here: ``envclone serve`` loads this module and never needs it

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"the server for {url} stopped while starting")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise CommandError(f"the server for {url} did not start in {timeout:.0f} s")


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stop(processes: list[subprocess.Popen[bytes]], grace: float = 5.0) -> None:
    """Ask both servers to stop, then make sure they do: a server in the middle of an operation
    may take longer than someone pressing Ctrl-C will wait."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def demo(
    directory: Annotated[Path | None, typer.Option(help="Where both environments keep their data")] = None,
    exit_after: Annotated[bool, typer.Option("--exit", help="Stop both servers when the demo is done")] = False,
) -> None:
    """Start two environments, seed the first, clone it to the second and prove they are equal."""
    # Ctrl-C, or SIGINT / SIGTERM from another process, stops the demo and both servers with it.
    # Set explicitly: a shell starts background commands with SIGINT ignored, and Python keeps
    # an inherited "ignore"; SIGTERM would otherwise end the demo and leave the servers running.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    root = directory or Path(tempfile.mkdtemp(prefix="envclone-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    source_pw, target_pw = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    ports = (_free_port(), _free_port())
    source_url, target_url = (f"http://127.0.0.1:{p}" for p in ports)
    processes = [
        _start(root / "source", ports[0], source_pw, "--demo"),
        _start(root / "target", ports[1], target_pw),
    ]
    try:
        console.print(
            f"starting source [cyan]{source_url}[/] (seeded with demo content) and target "
            f"[cyan]{target_url}[/] under {root}"
        )
        _wait_ready(source_url, processes[0])
        _wait_ready(target_url, processes[1])
        with EpmClient(source_url, "admin", source_pw) as client:
            before = client.call("GET", "/v1/environment/digest")
            client.epm(
                "POST",
                "/v1/services/clone",
                json={
                    "targetURL": target_url,
                    "targetUserName": "admin",
                    "targetEncryptPassword": base64.b64encode(target_pw.encode()).decode(),
                    "parameters": {
                        "snapshotName": "Artifact Snapshot",
                        "migrateUsers": True,
                        "storedSnapshotsAndFiles": True,
                    },
                },
            )
            latest = client.call("GET", "/v1/operations", params={"kind": "cloneEnvironment", "limit": 1})
            op = client.wait(int(latest["items"][0]["number"]), "cloneEnvironment")
            ok = report(op, "cloneEnvironment")
        # migrateUsers: the target's admin now has the source's password
        with EpmClient(target_url, "admin", source_pw) as client:
            after = client.call("GET", "/v1/environment/digest")
        _compare(before["components"], after["components"], source_url, target_url)
        if not ok:
            raise typer.Exit(1)
        if exit_after:
            _stop(processes)
            console.print(f"\nboth servers stopped; their data stays under {root}")
            return
        console.print(f"\nlog in to either with [bold]admin[/] / [bold]{escape(source_pw)}[/]")
        console.print("both servers keep running; press Ctrl-C to stop them")
        while all(p.poll() is None for p in processes):
            time.sleep(0.2)
        console.print("[yellow]a server stopped; stopping the demo[/]")
    except CommandError as exc:
        console.print(f"[red]error:[/] {escape(exc.message)} (logs under {root})")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        console.print("\nstopping both servers")
    finally:
        _stop(processes)


def _compare(source: dict[str, str], target: dict[str, str], source_url: str, target_url: str) -> None:
    table = Table("component", "source", "target", "equal")
    for name in sorted(source):
        same = source[name] == target.get(name)
        table.add_row(
            name, source[name][:16], str(target.get(name, "-"))[:16], "[green]yes[/]" if same else "[red]no[/]"
        )
    console.print(table)
    differing = [n for n in source if source[n] != target.get(n)]
    if differing:
        console.print(
            f"[yellow]differ: {', '.join(differing)}[/] (settings the target keeps by design, see "
            "docs/compatibility.md)"
        )
    else:
        console.print(f"[green]{target_url} is now an exact copy of {source_url}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
