"""Clone an Environment between two envclone servers on loopback (two processes, real HTTP): an
environment whose inbox holds the reference dataset (shared/bench), after its daily maintenance,
is cloned with every option on, then cloned again unchanged, then again after mutate.py (changed
since that maintenance). Reports time, bytes sent over the
wire (after the have/want exchange) against the archive's size, and each server's peak RSS.

Usage: .venv/bin/python bench/bench_clone.py [--scale 1] [--workdir DIR]
Prints a Markdown table.
"""

from __future__ import annotations

# ruff: noqa: S603, S105  (a benchmark: runs this program's server and the shared scripts)
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from envclone.domain.clone import OPTIONS as CLONE_OPTIONS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import SHARED_BENCH, child

PASSWORD = "bench-admin"
OPTIONS = {o.name: True for o in CLONE_OPTIONS}  # every option on


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {**os.environ, "ENVCLONE_ADMIN_PASSWORD": PASSWORD, "ENVCLONE_SCHEDULER": "false"}
        args = ["serve", "--port", str(self.port), "--data-dir", str(self.data_dir), "--log-level", "warning"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "envclone.cli.main", *args], env=env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit(f"server on {self.url} did not start")

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)


def wait(http: httpx.Client, op_id: str) -> dict[str, Any]:
    while True:
        op: dict[str, Any] = http.get(f"/v1/operations/{op_id}").json()
        if op["status"] in ("succeeded", "failed", "cancelled"):
            return op
        time.sleep(0.1)


def daily_maintenance(source: Server) -> None:
    """As every environment has one a day: the Artifact Snapshot and Environment Backup."""
    with httpx.Client(base_url=source.url, auth=("admin", PASSWORD), timeout=60) as http:
        response = http.post("/v1/maintenance/run", json={})
        response.raise_for_status()
        if wait(http, response.json()["id"])["status"] != "succeeded":
            raise SystemExit("daily maintenance failed")


def clone(source: Server, target: Server) -> dict[str, Any]:
    body = {"target_url": target.url, "target_user": "admin", "target_password": PASSWORD, "options": OPTIONS}
    with httpx.Client(base_url=source.url, auth=("admin", PASSWORD), timeout=60) as http:
        start = time.perf_counter()
        response = http.post("/v1/clone", json=body)
        response.raise_for_status()
        op = wait(http, response.json()["id"])
        seconds = time.perf_counter() - start
        if op["status"] != "succeeded":
            raise SystemExit(f"clone {op['status']}: {op['error']}")
        same = http.get("/v1/environment/digest").json()["environment"]
    with httpx.Client(base_url=target.url, auth=("admin", PASSWORD), timeout=60) as http:
        assert http.get("/v1/environment/digest").json()["environment"] == same, "digests differ"
    return {"seconds": seconds, **op["result"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="envclone-bench-")) / f"clone-{int(time.time())}"
    dataset, src_dir, dst_dir = work / "dataset", work / "source", work / "target"
    gen = [sys.executable, str(SHARED_BENCH / "gen_dataset.py"), "--out", str(dataset), "--scale", args.scale]
    subprocess.run(gen, check=True, capture_output=True)
    child("import", str(src_dir), str(dataset))
    source, target = Server(src_dir).start(), Server(dst_dir).start()
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        daily_maintenance(source)
        rows.append(("first clone", clone(source, target)))
        rows.append(("clone again, unchanged", clone(source, target)))
        source.stop()
        mutate = [sys.executable, str(SHARED_BENCH / "mutate.py"), "--dir", str(dataset)]
        subprocess.run(mutate, check=True, capture_output=True)
        child("import", str(src_dir), str(dataset))
        source = Server(src_dir).start()
        rows.append(("clone after mutate.py", clone(source, target)))
        rss = (source.peak_rss_mb(), target.peak_rss_mb())
    finally:
        source.stop()
        target.stop()
    print(f"scale {args.scale}: every option on, the target's digest equal to the source's after each clone\n")
    print("| run | time | sent | archive | chunks sent |\n|---|---|---|---|---|")
    for run, r in rows:
        print(
            f"| {run} | {r['seconds']:.2f} s | {r['bytesSent'] / 1e6:.1f} MB | {r['bytesTotal'] / 1e6:.0f} MB "
            f"| {r['chunksSent']} of {r['chunks']} |"
        )
    print(f"\npeak RSS of the last run: source {rss[0]:.0f} MB, target {rss[1]:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
