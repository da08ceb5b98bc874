"""Benchmark of the archive format on the reference dataset (shared/bench): writes the tree into an
archive, one entry per file, then again unchanged, after mutate.py, and reads everything back.

Usage: .venv/bin/python bench/bench_archive.py [--scale 0.1] [--workdir DIR] [--workers N]
Each run is a child process, so its peak RSS is its own. Stdout: one table row per run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED_BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run_write(store_dir: str, dataset: str, workers: int | None) -> dict[str, float]:
    from envclone.archive import ArchiveWriter
    from envclone.blobs import LocalBlobStore

    store = LocalBlobStore(store_dir)
    root = Path(dataset)
    start = time.perf_counter()
    with ArchiveWriter(store, source={"name": "bench", "service_type": "reference"}, workers=workers) as writer:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                writer.add_file("files", path.relative_to(root).as_posix(), path)
        manifest = writer.finish()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "bytes_in": writer.stats.bytes_in,
        "entries": manifest.counts()["entries"],
        "new_chunks": writer.stats.new_chunks,
        "archive_id": manifest.archive_id,  # type: ignore[dict-item]
    }


def run_read(store_dir: str, archive_id: str, workers: int | None) -> dict[str, float]:
    from envclone.archive import ArchiveReader
    from envclone.blobs import LocalBlobStore

    start = time.perf_counter()
    total = 0
    with ArchiveReader.open(LocalBlobStore(store_dir), archive_id, workers=workers) as reader:
        for component, entry in reader.manifest.entries():
            for piece in reader.read(component, entry.name):
                total += len(piece)
    return {"seconds": time.perf_counter() - start, "bytes_in": total}


def child(args: argparse.Namespace) -> None:
    if args.child == "write":
        result = run_write(args.store, args.dataset, args.workers)
    else:
        result = run_read(args.store, args.archive, args.workers)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(args: argparse.Namespace, *extra: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", *extra]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)  # noqa: S603
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None, help="fresh directory for dataset and store")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--bench-dir", type=Path, default=SHARED_BENCH, help="where gen_dataset.py lives")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--child", choices=["write", "read"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from envclone.archive import COMPILED

    work = Path(tempfile.mkdtemp(prefix="bench-archive-", dir=args.workdir))
    dataset, store = work / "dataset", work / "store"
    try:
        gen = [sys.executable, str(args.bench_dir / "gen_dataset.py"), "--out", str(dataset)]
        subprocess.run([*gen, "--scale", str(args.scale), "--seed", str(args.seed)], check=True, capture_output=True)  # noqa: S603
        size = tree_size(dataset)
        print(f"dataset scale {args.scale}: {size / 1e6:.0f} MB; pyfastcdc compiled: {COMPILED}; cpus {os.cpu_count()}")
        print(f"{'run':<22}{'time s':>9}{'MB/s':>9}{'peak RSS MB':>13}{'stored MB':>11}{'new chunks':>12}")
        runs: list[tuple[str, dict[str, float], float]] = []
        for label in ("write, first", "write, unchanged", "write, after mutate"):
            if label == "write, after mutate":
                mutate = [sys.executable, str(args.bench_dir / "mutate.py"), "--dir", str(dataset)]
                subprocess.run(mutate, check=True, capture_output=True)  # noqa: S603
            before = tree_size(store) if store.exists() else 0
            result = spawn(args, "write", "--store", str(store), "--dataset", str(dataset))
            runs.append((label, result, (tree_size(store) - before) / 1e6))
        archive = str(runs[0][1]["archive_id"])
        runs.append(("read + verify, first", spawn(args, "read", "--store", str(store), "--archive", archive), 0.0))
        for label, result, stored in runs:
            rate = result["bytes_in"] / 1e6 / result["seconds"]
            new = str(int(result["new_chunks"])) if "new_chunks" in result else "-"
            print(
                f"{label:<22}{result['seconds']:>9.2f}{rate:>9.0f}{result['peak_rss_mb']:>13.0f}"
                f"{stored:>11.1f}{new:>12}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
