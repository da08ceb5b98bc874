"""A scale-out deployment on loopback for the end-to-end tests: a fresh PostgreSQL database, an S3
server of its own (moto, so that a test may pause it without touching other tests' store), API
processes (``envclone serve --workers 0``) and worker processes (``envclone worker``), each a real
subprocess; plus probes of the shared database (which runner holds an operation)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.s3_server import ACCESS_KEY_ID, BUCKET, REGION, SECRET_ACCESS_KEY, S3Server, free_port

HEARTBEAT_SECONDS, STALE_SECONDS = 0.5, 3.0
SEALING_KEY = "scale-out-test-sealing-key-" + uuid.uuid4().hex


def start_s3(log: Path) -> tuple[S3Server, subprocess.Popen[bytes]]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    s3 = S3Server(endpoint=f"http://127.0.0.1:{port}", bucket=BUCKET)
    deadline = time.monotonic() + 30
    while True:
        try:
            s3.create_bucket(BUCKET)
            return s3, process
        except (EndpointConnectionError, ConnectionClosedError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the S3 test server did not start") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)  # a paused one first hears the terminate
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Cluster:
    root: Path
    database_url: str
    s3: S3Server
    apis: list[LiveServer] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        # One data directory for every process, as on a shared volume: blobs are on S3 and the
        # database is PostgreSQL; what stays local is a job's "local" repository folder.
        return self.root / "data"

    @property
    def env(self) -> dict[str, str]:
        return {
            "ENVCLONE_DATABASE_URL": self.database_url,
            "ENVCLONE_BLOB_URL": f"s3://{self.s3.bucket}/env-{self.root.name}?endpoint={self.s3.endpoint}&region={REGION}",
            "ENVCLONE_BLOB_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "ENVCLONE_BLOB_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "ENVCLONE_SECRET_KEY": SEALING_KEY,
            "ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ENVCLONE_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "ENVCLONE_WORKER_STALE_SECONDS": str(STALE_SECONDS),
            "ENVCLONE_WORKER_CONCURRENCY": "2",
        }

    def seed(self, size: str = "small") -> None:
        command = [sys.executable, "-m", "envclone.cli.main", "seed", "--size", size, "--data-dir", str(self.data_dir)]
        done = subprocess.run(command, env={**os.environ, **self.env}, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")

    def start_api(self) -> LiveServer:
        server = LiveServer(self.data_dir, self.database_url, extra_env=self.env, args=("--workers", "0"))
        server.log_path = self.root / f"api{len(self.apis) + 1}.log"
        self.apis.append(server.start())
        return server

    def start_worker(self, timeout: float = 60.0, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.root / f"worker{len(self.workers) + 1}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "envclone.cli.main", "worker", "--data-dir", str(self.data_dir)],
                env={**os.environ, **self.env, **(extra_env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(process)
        deadline = time.monotonic() + timeout
        while "Starting worker on queues" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.root.glob("*.log"))
        )

    def stop(self) -> None:
        for api in self.apis:
            api.stop()
        for worker in self.workers:
            stop(worker)

    # -- the shared database ----------------------------------------------------------------------
    def runner_of(self, op_id: str) -> tuple[str, str | None]:
        """The operation's status and runner as recorded."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                row = conn.execute(sa.text("SELECT status, runner FROM operations WHERE id = :id"), {"id": op_id}).one()
                return str(row.status), row.runner
        finally:
            engine.dispose()

    def wait_running(self, op_id: str, deadline: float = 30.0) -> subprocess.Popen[bytes]:
        """The worker process running the operation, once one has claimed it."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            status, runner = self.runner_of(op_id)
            if status == "running" and runner and runner.startswith("worker:"):
                pid = int(runner.split(":")[2])
                return next(w for w in self.workers if w.pid == pid)
            assert status in ("queued", "running"), f"operation {op_id} is {status}"
            time.sleep(0.05)
        raise AssertionError(f"no worker took operation {op_id} in {deadline}s")


def admin(server: LiveServer) -> httpx.Client:
    return server.client()
