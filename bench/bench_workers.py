"""Operations per minute, embedded versus scaled out (issue 12): the same batch of operations
started at once and timed to the last one's end, on (a) the embedded default, one `envclone serve`
running operations on its own threads, and (b) one API process (`serve --workers 0`) with 1, then 2,
`envclone worker` processes, all on one fresh PostgreSQL database per row. The batch is read-only
backup verifications and job clones (neither holds the environment's content lock, so they may run
side by side; restores, clones and backups run one at a time per environment in every mode).

Usage: .venv/bin/python bench/bench_workers.py [--ops 40] [--size small] [--concurrency 2]
       [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
Loopback only; every process shares this machine's cores, so the second worker's gain here is a
floor of what it gains on a machine of its own.
"""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: runs this program's processes; database names are its own)
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

PASSWORD = "Bench-admin-1!"  # noqa: S105  (a throw-away deployment's admin)
KEY = "bench-workers-sealing-key-" + uuid.uuid4().hex


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"envclone_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


class Deployment:
    """The processes of one row, sharing a data directory and a database."""

    def __init__(self, root: Path, db_url: str, concurrency: int, extra_env: dict[str, str] | None = None) -> None:
        self.root, self.processes = root, []  # type: list[subprocess.Popen[bytes]]
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "ENVCLONE_DATABASE_URL": db_url,
            "ENVCLONE_ADMIN_PASSWORD": PASSWORD,
            "ENVCLONE_SECRET_KEY": KEY,
            "ENVCLONE_WORKER_CONCURRENCY": str(concurrency),
            "ENVCLONE_WORKERS": str(concurrency),
            "ENVCLONE_SCHEDULER": "false",
            **(extra_env or {}),
        }
        self.data = root / "data"

    def _start(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        with (self.root / log).open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "envclone.cli.main", *args, "--data-dir", str(self.data)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def seed(self, size: str) -> None:
        command = [sys.executable, "-m", "envclone.cli.main", "seed", "--size", size, "--data-dir", str(self.data)]
        subprocess.run(command, env=self.env, check=True, capture_output=True, timeout=900)

    def serve(self, *, workers: int | None) -> str:
        port = _port()
        extra = ("--workers", str(workers)) if workers is not None else ()
        self._start("serve", "--port", str(port), "--log-level", "warning", *extra, log=f"api-{port}.log")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def worker(self) -> None:
        log = f"worker-{len(self.processes)}.log"
        self.workers.append(self._start("worker", "--log-level", "info", log=log))
        deadline = time.monotonic() + 60
        while "Starting worker on queues" not in (self.root / log).read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start")
            time.sleep(0.1)

    def peak_rss_mb(self) -> float:
        """The largest peak RSS of this row's worker processes so far (of the API process when it
        runs operations itself)."""
        peaks = [peak_rss_mb(p.pid) for p in (self.workers or self.processes)]
        return max(peaks, default=0.0)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes, self.workers = [], []


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), 0.0)


def _wait(http: httpx.Client, op_id: str) -> dict[str, Any]:
    while True:
        op: dict[str, Any] = http.get(f"/v1/operations/{op_id}").json()
        if op["status"] in ("succeeded", "failed", "cancelled"):
            return op
        time.sleep(0.05)


def batch(url: str, ops: int) -> float:
    """Start ``ops`` operations at once (half verifications, half job clones); seconds to the end
    of the last."""
    with httpx.Client(base_url=url, auth=("admin", PASSWORD), timeout=120) as http:
        maintenance = http.post("/v1/maintenance/run").json()
        assert _wait(http, maintenance["id"])["status"] == "succeeded"
        backup = next(b["name"] for b in http.get("/v1/backups").json()["items"] if b["kind"] == "environment_backup")
        repository = http.post("/v1/repositories", json={"name": "bench", "kind": "local", "path": "repos/bench"})
        repo_uid = repository.json()["uid"]
        job = http.post("/v1/jobs", json={"name": "bench", "job_type": "Backup", "repository_uid": repo_uid})
        job_uid = job.json()["uid"]
        start = time.perf_counter()
        started = []
        for i in range(ops):
            if i % 2:
                body = {"name": f"bench copy {i}", "folder_name": "bench", "repository_uid": repo_uid}
                response = http.post(f"/v1/jobs/{job_uid}/clone", json=body)
            else:
                response = http.post(f"/v1/backups/{backup}/verify")
            assert response.status_code == 202, response.text
            started.append(response.json()["id"])
        ends = [_wait(http, op_id) for op_id in started]
        elapsed = time.perf_counter() - start
        failed = [op for op in ends if op["status"] != "succeeded"]
        assert not failed, failed[:2]
        return elapsed


def row(
    name: str,
    admin_url: str,
    size: str,
    ops: int,
    concurrency: int,
    workers: int | None,
    extra_env: dict[str, str] | None = None,
    workdir: str | None = None,
) -> dict[str, Any]:
    """One row: a fresh database (and ``extra_env``, e.g. an object store), seeded, the batch run
    on the embedded server (``workers`` None) or an API process and ``workers`` workers."""
    with tempfile.TemporaryDirectory(prefix="envclone-bench-workers-", dir=workdir) as tmp, database(admin_url) as url:
        deployment = Deployment(Path(tmp), url, concurrency, extra_env)
        try:
            deployment.seed(size)
            api = deployment.serve(workers=None if workers is None else 0)
            for _ in range(workers or 0):
                deployment.worker()
            seconds = batch(api, ops)
            peak = deployment.peak_rss_mb()
        finally:
            deployment.stop()
    return {"mode": name, "ops": ops, "seconds": seconds, "per_minute": ops / seconds * 60, "peak_rss_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=40)
    parser.add_argument("--size", default="small")
    parser.add_argument("--concurrency", type=int, default=2, help="operations each process runs at once")
    parser.add_argument(
        "--pg", default=os.environ.get("ENVCLONE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    rows = [
        row("embedded (serve, operations on its threads)", args.pg, args.size, args.ops, args.concurrency, None),
        row("scale-out, 1 worker", args.pg, args.size, args.ops, args.concurrency, 1),
        row("scale-out, 2 workers", args.pg, args.size, args.ops, args.concurrency, 2),
    ]
    print(
        f"{args.ops} operations (verifications and job clones), seed {args.size}, "
        f"{args.concurrency} at once per process"
    )
    print("| mode | seconds | operations per minute |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['seconds']:.1f} | {r['per_minute']:.0f} |")


if __name__ == "__main__":
    main()
