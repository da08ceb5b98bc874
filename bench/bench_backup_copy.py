"""A backup copy job after a 1% change: an environment whose inbox holds the reference dataset
(shared/bench, imported as bench_backup.py does) has a backup job writing into one repository and a
backup copy job copying those backups into a second; the table gives the time and the bytes of
the first copy, of a copy with nothing new, and of the copy after mutate.py changed ~1% and the
backup job ran again (only the chunks the second repository lacks cross). Each run is a child
process, so its peak RSS is its own.

Usage: .venv/bin/python bench/bench_backup_copy.py [--scale 1] [--workdir DIR]
"""

from __future__ import annotations

# ruff: noqa: S603, S106  (a benchmark: runs this program and the shared scripts; a throwaway password)
import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# ../shared/bench beside the checkout (a worktree may sit one folder deeper than the main one).
SHARED_BENCH = next((p / "shared" / "bench" for p in BENCH.parents if (p / "shared" / "bench").is_dir()), BENCH)
BACKUP_JOB = "urn:veeam:Job:00000000-0000-4000-8000-00000000b001"
COPY_JOB = "urn:veeam:Job:00000000-0000-4000-8000-00000000c001"


def _context(data_dir: str):  # type: ignore[no-untyped-def]
    from envclone.server import build_context
    from envclone.settings import load_settings

    ctx, _ = build_context(load_settings(data_dir=data_dir, admin_password="bench-admin", scheduler=False))
    return ctx


def set_up(data_dir: str, work: str) -> dict[str, float]:
    """Two repositories (folders under the work directory), a backup job and its copy job."""
    from envclone.store import jobs

    ctx = _context(data_dir)
    with ctx.db.begin() as conn:
        for name in ("primary", "secondary"):
            uid = f"urn:veeam:Repository:00000000-0000-4000-8000-0000000000{'a1' if name == 'primary' else 'b2'}"
            path = str(Path(work) / "repositories" / name)
            jobs.repository_rows.insert(conn, {"uid": uid, "name": name, "kind": "local", "path": path})
        primary, secondary = (r["uid"] for r in jobs.list_repositories(conn))
        jobs.insert_job(
            conn,
            {"uid": BACKUP_JOB, "name": "bench backup", "job_type": "Backup", "repository_uid": primary,
             "folder_name": "backup", "definition": {}},
        )  # fmt: skip
        jobs.insert_job(
            conn,
            {"uid": COPY_JOB, "name": "bench copy", "job_type": "BackupCopy", "repository_uid": secondary,
             "folder_name": "copy", "definition": {"sourceJobs": [BACKUP_JOB]}},
        )  # fmt: skip
    ctx.db.dispose()
    return {}


def run(data_dir: str, job_uid: str) -> dict[str, float]:
    from envclone.services.authentication import check_password
    from envclone.services.job_runs import start_job

    ctx = _context(data_dir)
    start = time.perf_counter()
    op = start_job(ctx, check_password(ctx, "admin", "bench-admin"), job_uid)
    done = ctx.engine.wait(op.id)
    seconds = time.perf_counter() - start
    if done.status.value != "succeeded":
        raise SystemExit(f"run of {job_uid} failed: {done.error_message}")
    result = done.result
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "chunks": float(result.get("chunks", 0)),
        "chunks_sent": float(result.get("chunksSent", 0)),
        "bytes_sent": float(result.get("bytesSent", 0)),
        "bytes_total": float(result.get("bytesTotal", 0)),
        "copied": float(len(result.get("copied", []))),
    }


def child(kind: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def import_dataset(env_dir: Path, dataset: Path) -> None:
    subprocess.run(
        [sys.executable, str(BENCH / "bench_backup.py"), "--child", "import", str(env_dir), str(dataset)],
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(set_up(rest[0], rest[1]) if kind == "setup" else run(rest[0], rest[1])))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="envclone-bench-")) / f"copy-{int(time.time())}"
    dataset, env_dir = work / "dataset", work / "env"
    subprocess.run(
        [sys.executable, str(SHARED_BENCH / "gen_dataset.py"), "--out", str(dataset), "--scale", args.scale],
        check=True,
        capture_output=True,
    )
    import_dataset(env_dir, dataset)
    child("setup", str(env_dir), str(work))
    child("run", str(env_dir), BACKUP_JOB)
    rows = [("first copy", child("run", str(env_dir), COPY_JOB))]
    rows.append(("copy, nothing new", child("run", str(env_dir), COPY_JOB)))
    subprocess.run(
        [sys.executable, str(SHARED_BENCH / "mutate.py"), "--dir", str(dataset)], check=True, capture_output=True
    )
    import_dataset(env_dir, dataset)
    child("run", str(env_dir), BACKUP_JOB)
    rows.append(("copy after mutate.py (1%)", child("run", str(env_dir), COPY_JOB)))
    size = sum(p.stat().st_size for p in dataset.rglob("*") if p.is_file())
    print(f"scale {args.scale}: {size / 1e6:.0f} MB dataset\n")
    print("| run | time | peak RSS | backups copied | chunks sent / in the backups | bytes sent | backups' size |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['seconds']:.2f} s | {r['peak_rss_mb']:.0f} MB | {r['copied']:.0f} | "
            f"{r['chunks_sent']:.0f} / {r['chunks']:.0f} | {r['bytes_sent'] / 1e6:.1f} MB | "
            f"{r['bytes_total'] / 1e6:.1f} MB |"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
