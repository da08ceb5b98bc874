"""Status reads under load (issue 10, point 14): N clients on loopback polling one operation's
status (`GET /v1/operations/{id}`), each on one keep-alive connection, for a bounded time:
- as fast as answers come, on an idle server, reading a finished operation (bearer, then Basic);
- while a clone runs, reading that clone's own operation: as fast as answers come, then at a fixed
  total rate (--rate, the 1,000 a second that issue 10 asks for); the clone's time is measured
  alone and under each load;
- and first, in this process, the server's own cost of one read (CPU per request, the ASGI app
  called directly: no network, no client), which a shared machine disturbs less.

Usage: .venv/bin/python bench/bench_status_load.py [--clients 50] [--seconds 10] [--scale 0.1] [--rate 1000]
Loopback only; the load generator shares the machine with the servers, as a real poller on the same
host would.
"""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: runs this program's servers and the shared scripts)
import argparse
import asyncio
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from envclone.domain.operation import Operation
from envclone.engine import OperationKind, Recorder
from envclone.server import build_context, build_registry, create_app
from envclone.services import authentication
from envclone.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import SHARED_BENCH, child
from bench_clone import OPTIONS, PASSWORD, Server, clone, daily_maintenance

TERMINAL = ("succeeded", "failed", "cancelled")


# -- the client -------------------------------------------------------------------------------------
async def _poll(
    host: str, port: int, request: bytes, until: float, stop: threading.Event, interval: float, phase: float
) -> tuple[list[float], int]:
    """One keep-alive connection sending the same GET, as fast as the answers come (interval 0)
    or one every ``interval`` seconds from ``phase`` on (clients that poll on their own clocks,
    not all at the same instant); then latency counts from when the request was due, so a server
    that falls behind is not excused by the client waiting for it. Raw HTTP/1.1 on asyncio
    streams: a client library would spend more CPU than the server it measures."""
    latencies: list[float] = []
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    due = time.perf_counter() + phase - interval
    try:
        while time.monotonic() < until and not stop.is_set():
            if interval:
                due += interval
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
    return latencies, errors


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str,
    path: str,
    clients: int,
    seconds: float,
    *,
    bearer: str | None,
    stop: threading.Event | None = None,
    rate: float = 0.0,
    server_pid: int | None = None,
) -> dict[str, float]:
    """Poll until ``seconds`` pass or ``stop`` is set (the clone under load ended); ``rate`` > 0
    spreads that many requests a second over the clients. With ``server_pid``, also the server's
    CPU time per request (everything that process did meanwhile, a clone included)."""
    stop = stop or threading.Event()
    host, port = url.removeprefix("http://").split(":")
    credentials = f"Bearer {bearer}" if bearer else "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {credentials}\r\n\r\n".encode()
    interval = clients / rate if rate else 0.0

    async def run() -> list[tuple[list[float], int]]:
        until = time.monotonic() + seconds
        polls = (_poll(host, int(port), request, until, stop, interval, interval * i / clients) for i in range(clients))
        return await asyncio.gather(*polls)

    started, server_cpu, client_cpu = time.monotonic(), cpu_seconds(server_pid or os.getpid()), time.process_time()
    results = asyncio.run(run())
    elapsed = time.monotonic() - started
    latencies = sorted(v for r, _ in results for v in r)
    server_cpu = cpu_seconds(server_pid or os.getpid()) - server_cpu
    client_cpu = time.process_time() - client_cpu
    return {
        "server_cpu_ms": server_cpu / len(latencies) * 1000 if server_pid else float("nan"),
        "client_cpu_ms": client_cpu / len(latencies) * 1000,
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "errors": sum(e for _, e in results),
    }


def token(url: str) -> str:
    data = {"grant_type": "password", "username": "admin", "password": PASSWORD}
    body: dict[str, Any] = httpx.post(url + "/v1/auth/token", data=data, timeout=30).json()
    return str(body["access_token"])


def clone_under_load(
    source: Server, target: Server, polling: Callable[[str, threading.Event], dict[str, float]]
) -> tuple[dict[str, float], float]:
    """Start a clone, poll its own operation with ``polling`` until it ends; the load's figures and
    the clone's time (from its request to the end its record shows)."""
    body = {"target_url": target.url, "target_user": "admin", "target_password": PASSWORD, "options": OPTIONS}
    ended = threading.Event()
    with httpx.Client(base_url=source.url, auth=("admin", PASSWORD), timeout=60) as http:
        started = time.perf_counter()
        response = http.post("/v1/clone", json=body)
        response.raise_for_status()
        op_id = response.json()["id"]
        seconds: list[float] = []

        def watch() -> None:
            with httpx.Client(base_url=source.url, auth=("admin", PASSWORD), timeout=60) as watcher:
                while watcher.get(f"/v1/operations/{op_id}").json()["status"] not in TERMINAL:
                    time.sleep(0.1)
            seconds.append(time.perf_counter() - started)
            ended.set()

        watching = threading.Thread(target=watch)
        watching.start()
        figures = polling(f"/v1/operations/{op_id}", ended)
        watching.join()
        op = http.get(f"/v1/operations/{op_id}").json()
    if op["status"] != "succeeded":
        raise SystemExit(f"clone {op['status']}: {op['error']}")
    return figures, seconds[0]


# -- the server's own cost, in this process ----------------------------------------------------------
def in_process(requests: int) -> list[tuple[str, float]]:
    """CPU milliseconds per status read, the ASGI app called directly (no socket, no client)."""
    release = threading.Event()

    def hold(_context: Any, _op: Operation, rec: Recorder) -> None:
        with rec.step("Holding"):
            release.wait(600)

    registry = build_registry()
    registry.register(OperationKind("benchHold", hold, ("Holding",)))
    work = Path(tempfile.mkdtemp(prefix="envclone-load-inproc-"))
    ctx, _ = build_context(load_settings(data_dir=work, admin_password=PASSWORD, scheduler=False), registry)
    app = create_app(ctx)
    rows: list[tuple[str, float]] = []
    try:
        finished = ctx.engine.submit("benchHold", {}, created_by="admin")
        release.set()
        ctx.engine.wait(finished.id, 60)
        release.clear()
        running = ctx.engine.submit("benchHold", {}, created_by="admin")
        bearer, _ = authentication.issue_token(ctx, "admin", PASSWORD)
        basic = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        for name, op_id, credentials in (
            ("a finished operation, bearer", finished.id, f"Bearer {bearer}"),
            ("a finished operation, HTTP Basic", finished.id, basic),
            ("a running operation, bearer", running.id, f"Bearer {bearer}"),
        ):
            call = _asgi_get(app, f"/v1/operations/{op_id}", credentials)
            asyncio.run(_repeat(call, 200))  # warm: caches, imports, the connection pool
            cpu = time.process_time()
            asyncio.run(_repeat(call, requests))
            rows.append((name, (time.process_time() - cpu) / requests * 1000))
    finally:
        release.set()
        ctx.engine.shutdown()
        ctx.db.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _asgi_get(app: Any, path: str, authorization: str) -> Callable[[], Awaitable[None]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", authorization.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"{path}: status {message['status']}")

    async def call() -> None:
        await app(dict(scope), receive, send)

    return call


async def _repeat(call: Callable[[], Awaitable[None]], times: int) -> None:
    for _ in range(times):
        await call()


# -- the run ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--scale", default="0.1", help="reference dataset scale in the cloned environment")
    parser.add_argument("--rate", type=float, default=1000.0, help="total requests a second of the paced run")
    parser.add_argument("--in-process-requests", type=int, default=3000)
    args = parser.parse_args()
    cost = in_process(args.in_process_requests)
    work = Path(tempfile.mkdtemp(prefix="envclone-load-"))
    dataset = work / "dataset"
    gen = [sys.executable, str(SHARED_BENCH / "gen_dataset.py"), "--out", str(dataset), "--scale", args.scale]
    subprocess.run(gen, check=True, capture_output=True)
    child("import", str(work / "source"), str(dataset))
    source = Server(work / "source").start()
    targets = [Server(work / f"target{i}").start() for i in range(3)]
    rows: list[tuple[str, dict[str, float]]] = []
    clones: list[tuple[str, float]] = []
    try:
        daily_maintenance(source)
        clones.append(("alone", clone(source, targets[0])["seconds"]))
        bearer = token(source.url)
        with httpx.Client(base_url=source.url, auth=("admin", PASSWORD)) as http:
            op_id = http.get("/v1/operations", params={"limit": 1}).json()["items"][0]["id"]
        path = f"/v1/operations/{op_id}"
        pid = source.process.pid if source.process else None
        for name, credential in (("bearer", bearer), ("HTTP Basic", None)):
            figures = load(source.url, path, args.clients, args.seconds, bearer=credential, server_pid=pid)
            rows.append((f"idle, finished op, {name}", figures))
        paced = (("as fast as answered", targets[1], 0.0), (f"at {args.rate:.0f}/s", targets[2], args.rate))
        for name, target, rate in paced:

            def polling(path: str, ended: threading.Event, rate: float = rate) -> dict[str, float]:
                return load(source.url, path, args.clients, 600.0, bearer=bearer, stop=ended, rate=rate, server_pid=pid)

            figures, seconds = clone_under_load(source, target, polling)
            rows.append((f"during a clone, its own op, bearer, {name}", figures))
            clones.append((f"polled {name}", seconds))
    finally:
        source.stop()
        for target in targets:
            target.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("in-process server cost of one status read (`GET /v1/operations/{id}`, ASGI app called directly)\n")
    print("| read | CPU per request |\n|---|---|")
    for name, ms in cost:
        print(f"| {name} | {ms:.3f} ms |")
    print(f"\n{args.clients} clients on loopback, {args.seconds:.0f} s idle; clone of scale {args.scale}\n")
    print("| load | requests/s | p50 | p99 | errors | server CPU / request | client CPU / request |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['errors']:.0f} "
            f"| {r['server_cpu_ms']:.2f} ms | {r['client_cpu_ms']:.2f} ms |"
        )
    alone = clones[0][1]
    print("\n| clone | time | vs alone |\n|---|---|---|")
    for name, seconds in clones:
        print(f"| {name} | {seconds:.2f} s | {seconds / alone - 1:+.0%} |")


if __name__ == "__main__":
    main()
