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


async def _poll(
    url: str, path: str, auth: httpx.Auth | None, headers: dict[str, str], until: float, stop: threading.Event
) -> list[float]:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=url, auth=auth, headers=headers, timeout=30) as http:
        while time.monotonic() < until and not stop.is_set():
            start = time.perf_counter()
            response = await http.get(path)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors += 1
    return [*latencies, -float(errors)]  # errors travel as one negative tail value


def load(
    url: str, path: str, clients: int, seconds: float, *, bearer: str | None, stop: threading.Event | None = None
) -> dict[str, float]:
    """Poll until ``seconds`` pass or ``stop`` is set (the clone under load ended)."""
    stop = stop or threading.Event()
    auth = None if bearer else httpx.BasicAuth("admin", PASSWORD)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}

    async def run() -> list[list[float]]:
        until = time.monotonic() + seconds
        return await asyncio.gather(*(_poll(url, path, auth, headers, until, stop) for _ in range(clients)))

    started = time.monotonic()
    results = asyncio.run(run())
    elapsed = time.monotonic() - started
    latencies = sorted(v for r in results for v in r[:-1])
    errors = sum(-r[-1] for r in results)
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0,
        "errors": errors,
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
