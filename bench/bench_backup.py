"""Daily backup of an environment whose inbox holds the reference dataset (shared/bench), side by
side with restic on the same bytes on the same machine: first backup, unchanged backup, backup
after mutate.py, and a restore of every file. Each envclone run is a child process, so its peak
RSS is its own; restic runs under /usr/bin/time for the same reason.

Usage: .venv/bin/python bench/bench_backup.py [--scale 1] [--workdir DIR] [--no-restic]
Prints a Markdown table (median of --runs runs for the unchanged case).
"""

from __future__ import annotations

# ruff: noqa: S603, S607, S106  (a benchmark: runs this program, restic and the shared scripts)
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _shared_bench() -> Path:
    """The shared dataset scripts: ``$ENVCLONE_SHARED_BENCH``, else ``shared/bench`` beside the
    nearest ancestor of this checkout that has one (a worktree may sit a level deeper)."""
    if os.environ.get("ENVCLONE_SHARED_BENCH"):
        return Path(os.environ["ENVCLONE_SHARED_BENCH"])
    here = Path(__file__).resolve()
    return next((p / "shared" / "bench" for p in here.parents if (p / "shared" / "bench").is_dir()), here.parents[2])


SHARED_BENCH = _shared_bench()
RESTIC_ENV = {"RESTIC_PASSWORD": "bench-only"}


def flat_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix().replace("/", "__")


def import_tree(data_dir: str, dataset: str) -> None:
    """Put the dataset into the environment's inbox (set-up, not timed): blobs by content hash and
    file rows in bulk, as uploads would leave them. Files already present and unchanged are kept."""
    import datetime as dt

    from blake3 import blake3

    from envclone.server import build_context
    from envclone.services.files import blob_key
    from envclone.settings import load_settings
    from envclone.store import tables
    from envclone.store.repository import TableRepository

    ctx, _ = build_context(load_settings(data_dir=data_dir, admin_password="bench-admin", scheduler=False))
    root = Path(dataset)
    files = TableRepository(tables.files)
    with ctx.db.read() as conn:
        known = {(r["name"], r["size"]): r["hash"] for r in files.stream(conn, {"area": "inbox"})}
    names = {name for name, _ in known}
    rows, changed = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        name = flat_name(path, root)
        digest = blake3(data).hexdigest()
        if known.get((name, len(data))) == digest:
            continue
        if not ctx.blobs.exists(blob_key(digest)):
            ctx.blobs.put(blob_key(digest), data)
        row = {
            "area": "inbox",
            "name": name,
            "size": len(data),
            "hash": digest,
            "modified": dt.datetime.fromtimestamp(path.stat().st_mtime),
        }
        (changed if name in names else rows).append(row)
    with ctx.db.begin() as conn:
        for row in changed:
            files.update(conn, {"area": "inbox", "name": row["name"]}, row)
        files.insert_many(conn, rows)
    ctx.db.dispose()


def run_backup(data_dir: str) -> dict[str, float]:
    from envclone.domain import maintenance
    from envclone.server import build_context
    from envclone.settings import load_settings

    ctx, _ = build_context(load_settings(data_dir=data_dir, admin_password="bench-admin", scheduler=False))
    start = time.perf_counter()
    op = ctx.engine.submit(maintenance.KIND, {}, created_by="bench")
    done = ctx.engine.wait(op.id)
    seconds = time.perf_counter() - start
    if done.status.value != "succeeded":
        raise SystemExit(f"backup failed: {done.error_message}")
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes": float(done.result.get("bytes", 0)),
        "reused": float(done.result.get("bytesReused", 0)),
    }


def run_restore(data_dir: str) -> dict[str, float]:
    """Restore Environment with storedSnapshotsAndFiles from the newest Environment Backup, after
    the file contents were deleted from the blob store: every file is read back from the archive
    (verified chunk by chunk) and written, as restic restore writes the tree."""
    from envclone.domain import restore
    from envclone.domain.archives import ArchiveKind
    from envclone.server import build_context
    from envclone.settings import load_settings
    from envclone.store import archives

    shutil.rmtree(Path(data_dir) / "blobs" / "files")
    ctx, _ = build_context(load_settings(data_dir=data_dir, admin_password="bench-admin", scheduler=False))
    with ctx.db.read() as conn:
        row = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
    assert row is not None, "no Environment Backup to restore"
    request = restore.RestoreRequest(backup_name=row["name"], stored_snapshots_and_files=True)
    start = time.perf_counter()
    op = ctx.engine.submit(restore.KIND, request.model_dump(mode="json"), created_by="bench")
    done = ctx.engine.wait(op.id)
    seconds = time.perf_counter() - start
    if done.status.value != "succeeded":
        raise SystemExit(f"restore failed: {done.error_message}")
    return {"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(kind: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def restic(repo: Path, *args: str) -> dict[str, float]:
    env = {**os.environ, **RESTIC_ENV, "RESTIC_REPOSITORY": str(repo)}
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "restic", "--cache-dir", str(repo) + "-cache", "-q", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": int(proc.stderr.strip().splitlines()[-1]) / 1024}


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def chunk_bytes(blobs: Path) -> int:
    """Bytes of chunks in either layout: one blob per chunk, or pack files and their index."""
    return sum(du(blobs / part) for part in ("chunks", "packs", "index"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-restic", action="store_true")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "backup":
            result = run_backup(rest[0])
        elif kind == "restore":
            result = run_restore(rest[0])
        else:
            result = import_tree(rest[0], rest[1]) or {}
        print(json.dumps(result))
        return
    if not args.no_restic and shutil.which("restic") is None:
        sys.exit("restic is not installed (apt-get install restic), or run with --no-restic")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="envclone-bench-")) / f"run-{int(time.time())}"
    dataset, env_dir, repo = work / "dataset", work / "env", work / "restic"
    subprocess.run(
        [sys.executable, str(SHARED_BENCH / "gen_dataset.py"), "--out", str(dataset), "--scale", args.scale],
        check=True,
        capture_output=True,
    )
    child("import", str(env_dir), str(dataset))
    rows: list[tuple[str, str, dict[str, float], int | None]] = []
    first = child("backup", str(env_dir))
    rows.append(("envclone", "backup, first", first, chunk_bytes(env_dir / "blobs")))
    unchanged = [child("backup", str(env_dir)) for _ in range(args.runs)]
    rows.append(("envclone", "backup, unchanged", _median(unchanged), None))
    if not args.no_restic:
        env = {**os.environ, **RESTIC_ENV, "RESTIC_REPOSITORY": str(repo)}
        subprocess.run(["restic", "init", "-q"], env=env, check=True, capture_output=True)
        rows.append(("restic", "backup, first", restic(repo, "backup", str(dataset)), du(repo)))
        rows.append(
            (
                "restic",
                "backup, unchanged",
                _median([restic(repo, "backup", str(dataset)) for _ in range(args.runs)]),
                None,
            )
        )
    before_env, before_repo = chunk_bytes(env_dir / "blobs"), du(repo) if repo.exists() else 0
    subprocess.run(
        [sys.executable, str(SHARED_BENCH / "mutate.py"), "--dir", str(dataset)], check=True, capture_output=True
    )
    child("import", str(env_dir), str(dataset))
    mutated = child("backup", str(env_dir))
    rows.append(("envclone", "backup, after mutate.py", mutated, chunk_bytes(env_dir / "blobs") - before_env))
    if not args.no_restic:
        rows.append(("restic", "backup, after mutate.py", restic(repo, "backup", str(dataset)), du(repo) - before_repo))
    rows.append(("envclone", "restore, all files", child("restore", str(env_dir)), None))
    if not args.no_restic:
        restored = restic(repo, "restore", "latest", "--target", str(work / "out"))
        rows.append(("restic", "restore, all files", restored, None))
    print(f"scale {args.scale}: {du(dataset) / 1e6:.0f} MB in {sum(1 for _ in dataset.rglob('*'))} paths\n")
    print("| tool | run | time | peak RSS | stored |\n|---|---|---|---|---|")
    for tool, run, result, stored in rows:
        size = f"{stored / 1e6:.0f} MB" if stored is not None else "-"
        print(f"| {tool} | {run} | {result['seconds']:.2f} s | {result['peak_rss_mb']:.0f} MB | {size} |")
    shutil.rmtree(work, ignore_errors=True)


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


if __name__ == "__main__":
    main()
