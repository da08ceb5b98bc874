"""The distributed rows of the benchmark command (issue 12): the same backup, restore and clone runs
as the embedded default's, on a scale-out deployment on loopback, and operations per minute with
one and two workers. bench/suite.py calls it; it has no command of its own.

The deployment: a fresh PostgreSQL database (``--pg``, trust auth on 127.0.0.1:5432 by default),
the blob store on an S3 API server (moto in server mode, in a process of its own, reached through
``ENVCLONE_BLOB_URL=s3://bench/PREFIX?endpoint=...``), one API process (``envclone serve --workers
0``) and one worker (``envclone worker``). The reference dataset is put in the inbox as for the
embedded rows (bench_backup.import_tree, not timed: the workers are stopped meanwhile, since that
set-up runs in a process of its own on the database). Every run is started over HTTP through the
API process and timed from the request to the operation's end as the API reports it (polled every
50 ms); peak RSS is the worker's (its peak so far: one worker runs the whole series), stored is
what the S3 bucket holds below the prefix, file contents aside. The restore first deletes the file
contents from the bucket, so every file is read back from the backup, as the embedded row does.
The clone's target is an embedded server, as in the embedded rows. The same series runs again with
the blobs in the data folder every process shares (``folder``): the difference between the two is
what the object store costs (here moto, a Python server on the same cores), the rest what the
distribution costs.

Operations per minute: bench_workers.row (one batch of verifications and job clones, started at
once) on the embedded server and on an API process with one, then two, workers, each on a fresh
database, the blobs in the data folder they share (see ``throughput``)."""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: runs this program's processes)
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_backup
import bench_workers
from bench_clone import Server, clone
from bench_object_store import BUCKET, KEY_ID, REGION, SECRET, start_moto

PASSWORD = "bench-admin"  # noqa: S105  (what import_tree bootstraps the admin with)
DEFAULT_PG = os.environ.get("ENVCLONE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
Result = dict[str, float]


def unreachable(admin_url: str) -> str | None:
    """Why PostgreSQL at ``admin_url`` cannot hold the distributed rows' databases (None: it can)."""
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect is the note's reason
        return str(exc).strip().splitlines()[0]
    finally:
        engine.dispose()


class ObjectStore:
    """moto in server mode, one bucket; each deployment gets a prefix of its own."""

    def __init__(self) -> None:
        self.process, self.endpoint = start_moto()
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
        )

    def env(self, prefix: str) -> dict[str, str]:
        return {
            "ENVCLONE_BLOB_URL": f"s3://{BUCKET}/{prefix}?endpoint={self.endpoint}&region={REGION}",
            "ENVCLONE_BLOB_ACCESS_KEY_ID": KEY_ID,
            "ENVCLONE_BLOB_SECRET_ACCESS_KEY": SECRET,
        }

    def keys(self, prefix: str) -> list[tuple[str, int]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/")
        return [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])]

    def stored_mb(self, prefix: str) -> float:
        """What the prefix holds, file contents (``files/``) aside, as the embedded rows count."""
        return sum(size for key, size in self.keys(prefix) if not key.startswith(f"{prefix}/files/")) / 1e6

    def delete_files(self, prefix: str) -> None:
        keys = [key for key, _ in self.keys(prefix) if key.startswith(f"{prefix}/files/")]
        for i in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[i : i + 1000]]
            self.client.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})  # type: ignore[typeddict-item]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _operation(api: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
    """Start an operation through the API process; seconds to its end, and its final record."""
    with httpx.Client(base_url=api, auth=("admin", PASSWORD), timeout=120) as http:
        start = time.perf_counter()
        response = http.request(method, path, json=body)
        if response.status_code != 202:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:500]}")
        op_id = response.json()["id"]
        while True:
            op: dict[str, Any] = http.get(f"/v1/operations/{op_id}").json()
            if op["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    if op["status"] != "succeeded":
        raise SystemExit(f"{method} {path} {op['status']}: {op.get('error')}")
    return seconds, op


class Distributed:
    """One series of the distributed rows, on a deployment of its own."""

    def __init__(self, root: Path, pg_url: str, store: ObjectStore | None) -> None:
        """On ``store``, or without one on the blob folder under the data folder every process
        shares (which isolates what the object store costs from what the distribution does)."""
        self.root, self.store = root, store
        self.prefix = f"bench-{uuid.uuid4().hex[:10]}"
        self.pg_url = pg_url
        self.env = {
            **(store.env(self.prefix) if store is not None else {}),
            "ENVCLONE_DATABASE_URL": pg_url,
            "ENVCLONE_ADMIN_PASSWORD": PASSWORD,
        }
        self.deployment = bench_workers.Deployment(root, pg_url, concurrency=4, extra_env=self.env)
        self.api = ""

    def load(self, dataset: Path) -> None:
        """The dataset into the inbox (set-up, not timed), in a process of its own, as the embedded
        rows do it; no worker runs meanwhile (that process would refuse to start beside them)."""
        command = [sys.executable, bench_backup.__file__, "--child", "import", str(self.deployment.data), str(dataset)]
        env = {**os.environ, **self.deployment.env}
        subprocess.run(command, env=env, check=True, capture_output=True)

    def start(self) -> None:
        self.api = self.deployment.serve(workers=0)
        self.deployment.worker()

    def stop(self) -> None:
        self.deployment.stop()

    def backup(self, *, before_mb: float | None = None, stored: bool = True) -> Result:
        """Daily maintenance (the snapshot and the Environment Backup), as the embedded row runs it;
        with ``stored``, what the bucket then holds (less ``before_mb``)."""
        seconds, _op = _operation(self.api, "POST", "/v1/maintenance/run", {})
        result = {"seconds": seconds, "peak_rss_mb": self.deployment.peak_rss_mb()}
        if stored:
            result["stored_mb"] = self.stored_mb() - (before_mb or 0.0)
        return result

    def stored_mb(self) -> float:
        if self.store is not None:
            return self.store.stored_mb(self.prefix)
        blobs = self.deployment.data / "blobs"
        return (
            sum(p.stat().st_size for p in blobs.rglob("*") if p.is_file() and "files" not in p.relative_to(blobs).parts)
            / 1e6
        )

    def restore(self, backup_name: str) -> Result:
        if self.store is not None:
            self.store.delete_files(self.prefix)
        else:
            shutil.rmtree(self.deployment.data / "blobs" / "files")
        body = {"backup_name": backup_name, "stored_snapshots_and_files": True}
        seconds, _op = _operation(self.api, "POST", "/v1/restore", body)
        return {"seconds": seconds, "peak_rss_mb": self.deployment.peak_rss_mb()}

    def clone(self, target: Server) -> Result:
        source = Server(self.root)  # the API process as bench_clone sees a source: its URL
        source.url = self.api
        result = clone(source, target)
        return {
            "seconds": result["seconds"],
            "peak_rss_mb": self.deployment.peak_rss_mb(),
            "sent_mb": result["bytesSent"] / 1e6,
        }

    def newest_backup(self) -> str:
        with httpx.Client(base_url=self.api, auth=("admin", PASSWORD), timeout=60) as http:
            items = http.get("/v1/backups", params={"kind": "environment_backup"}).json()["items"]
        return str(max(items, key=lambda b: str(b.get("created") or b.get("name")))["name"])


def series(work: Path, pg_url: str, store: ObjectStore | None, dataset: Path, mutated: Path) -> dict[str, Result]:
    """One run of every distributed backup, clone and restore row: the dataset loaded, backed up
    (first, unchanged), cloned to an embedded target (first, unchanged), the mutated dataset
    loaded, cloned again, backed up again, then every file restored from that backup."""
    fresh: Callable[[str], Path] = lambda name: Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))  # noqa: E731
    with bench_workers.database(pg_url) as db_url:
        run = Distributed(fresh("distributed"), db_url, store)
        target = Server(fresh("distributed-target") / "data")
        rows: dict[str, Result] = {}
        try:
            run.load(dataset)
            run.start()
            rows["backup, first"] = run.backup()
            rows["backup, unchanged"] = run.backup(stored=False)
            target.start()
            rows["clone, first"] = run.clone(target)
            rows["clone, unchanged"] = run.clone(target)
            run.stop()
            before = run.stored_mb()
            run.load(mutated)
            run.start()
            rows["clone, after mutate.py"] = run.clone(target)
            rows["backup, after mutate.py"] = run.backup(before_mb=before)
            rows["restore, all files"] = run.restore(run.newest_backup())
        finally:
            run.stop()
            target.stop()
    return rows


def throughput(work: Path, pg_url: str, ops: int, store: ObjectStore | None = None) -> list[dict[str, Any]]:
    """Operations per minute: embedded, then one and two workers (bench_workers.row). The blobs
    are in the data folder all the processes share unless ``store`` is given: on moto, a Python
    S3 server on the same cores, the verifications measure moto (4 operations took 32 s there
    against 1.8 s on the folder, at scale 0.01)."""
    rows = []
    for name, workers in (("embedded", None), ("1 worker", 1), ("2 workers", 2)):
        env = store.env(f"ops-{uuid.uuid4().hex[:10]}") if store is not None else None
        rows.append(bench_workers.row(name, pg_url, "small", ops, 2, workers, extra_env=env, workdir=str(work)))
    return rows
