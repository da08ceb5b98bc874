"""Status reads under load (issue 10, point 14): N clients on loopback polling one operation's
status (`GET /v1/operations/{id}`) as fast as they can for a bounded time, first on an idle
server, then while a clone runs (the clone's time measured with and without the load). Reports
requests per second, p50/p99 latency and errors, for a bearer token and for HTTP Basic.

Usage: .venv/bin/python bench/bench_status_load.py [--clients 50] [--seconds 10] [--scale 0.1]
Loopback only; the load generator shares the machine with the server, as a real poller on the
same host would.
"""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: runs this program's servers and the shared scripts)
import argparse
import asyncio
import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import SHARED_BENCH, child
from bench_clone import PASSWORD, Server, clone, daily_maintenance


async def _poll(host: str, port: int, request: bytes, until: float, stop: threading.Event) -> tuple[list[float], int]:
    """One keep-alive connection sending the same GET as fast as the answers come. Raw HTTP/1.1 on
    asyncio streams: a client library would spend more CPU than the server it measures."""
    latencies: list[float] = []
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until and not stop.is_set():
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
    return latencies, errors


def load(
    url: str, path: str, clients: int, seconds: float, *, bearer: str | None, stop: threading.Event | None = None
) -> dict[str, float]:
    """Poll until ``seconds`` pass or ``stop`` is set (the clone under load ended)."""
    stop = stop or threading.Event()
    host, port = url.removeprefix("http://").split(":")
    credentials = f"Bearer {bearer}" if bearer else "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {credentials}\r\n\r\n".encode()

    async def run() -> list[tuple[list[float], int]]:
        until = time.monotonic() + seconds
        return await asyncio.gather(*(_poll(host, int(port), request, until, stop) for _ in range(clients)))

    started = time.monotonic()
    results = asyncio.run(run())
    elapsed = time.monotonic() - started
    latencies = sorted(v for r, _ in results for v in r)
    return {
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--scale", default="0.1", help="reference dataset scale in the cloned environment")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envclone-load-"))
    dataset = work / "dataset"
    gen = [sys.executable, str(SHARED_BENCH / "gen_dataset.py"), "--out", str(dataset), "--scale", args.scale]
    subprocess.run(gen, check=True, capture_output=True)
    child("import", str(work / "source"), str(dataset))
    source = Server(work / "source").start()
    targets = [Server(work / f"target{i}").start() for i in range(2)]
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        daily_maintenance(source)
        quiet = clone(source, targets[0])  # the clone's time without load
        bearer = token(source.url)
        with httpx.Client(base_url=source.url, auth=("admin", PASSWORD)) as http:
            op_id = http.get("/v1/operations", params={"limit": 1}).json()["items"][0]["id"]
        path = f"/v1/operations/{op_id}"
        rows.append(("idle, bearer token", load(source.url, path, args.clients, args.seconds, bearer=bearer)))
        rows.append(("idle, HTTP Basic", load(source.url, path, args.clients, args.seconds, bearer=None)))
        loaded: dict[str, Any] = {}
        ended = threading.Event()

        def cloning() -> None:
            try:
                loaded.update(clone(source, targets[1]))
            finally:
                ended.set()

        runner = threading.Thread(target=cloning)
        runner.start()
        during = load(source.url, path, args.clients, 600.0, bearer=bearer, stop=ended)
        rows.append(("during a clone, bearer", during))
        runner.join()
    finally:
        source.stop()
        for target in targets:
            target.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.clients} clients for {args.seconds:.0f} s each on loopback; clone of scale {args.scale}\n")
    print("| load | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['errors']:.0f} |")
    slower = loaded["seconds"] / quiet["seconds"] - 1
    print(f"\nclone: {quiet['seconds']:.2f} s alone, {loaded['seconds']:.2f} s under load ({slower:+.0%})")


if __name__ == "__main__":
    main()
