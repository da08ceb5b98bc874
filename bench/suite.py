"""One benchmark run: envclone and its peers on the same data, on this machine, in the same run
(`bench/run [--scale S] [--runs N]`). Rows, each the median of N runs on fresh paths:

- envclone: backup first, unchanged, after ``mutate.py``; restore of every file; clone between two
  servers on loopback first, unchanged, after ``mutate.py`` (bytes sent and the target's peak RSS);
- restic and borg (Debian's packages; skipped with a note when not installed): the same backup
  and restore rows;
- the machine's limit: ``tar -cf - | zstd -T0 -3`` and its extraction, and ``cp -r``;
- envclone, distributed (issue 12; bench_distributed.py): the same backup, restore and clone rows
  on PostgreSQL (``--pg``), an S3 server (moto) as the blob store, an API process with ``--workers
  0`` and a worker, then again with the blobs in a shared folder (what the object store costs);
  and operations per minute, embedded and with 1 and 2 workers (``--ops``).
  Skipped with a note when PostgreSQL is not reachable (or with ``--skip distributed``).

Prints a Markdown table with envclone's ratio to each peer, and writes the results as JSON with the
machine's description (``--json``, default ``bench/results/latest.json``). Peak RSS is each
process's own (envclone runs in child processes, peers under ``/usr/bin/time``)."""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: runs this program, the peers and the shared scripts)
import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import RESTIC_ENV, SHARED_BENCH, child
from bench_clone import Server, clone, daily_maintenance

DISTRIBUTED = "envclone, distributed"

BORG_ENV = {
    "BORG_PASSPHRASE": "",
    "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
    "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass
class Row:
    tool: str
    run: str
    seconds: float
    peak_rss_mb: float
    stored_mb: float | None = None
    sent_mb: float | None = None
    per_minute: float | None = None  # operations per minute (the throughput rows)
    samples: list[float] = field(default_factory=list)


def median_row(tool: str, run: str, results: list[dict[str, float]]) -> Row:
    def med(key: str) -> float | None:
        values = [r[key] for r in results if r.get(key) is not None]
        return statistics.median(values) if values else None

    return Row(
        tool,
        run,
        seconds=float(med("seconds") or 0.0),
        peak_rss_mb=float(med("peak_rss_mb") or 0.0),
        stored_mb=med("stored_mb"),
        sent_mb=med("sent_mb"),
        per_minute=med("per_minute"),
        samples=[round(r["seconds"], 3) for r in results],
    )


def du_mb(path: Path, *, skip: str | None = None) -> float:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not (skip and skip in p.relative_to(path).parts):
            total += p.stat().st_size
    return total / 1e6


def timed(command: list[str] | str, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, float]:
    """Run under /usr/bin/time: wall seconds and the peak RSS of the largest process it waited for."""
    argv = ["/usr/bin/time", "-f", "%M", *(["bash", "-c", command] if isinstance(command, str) else command)]
    start = time.perf_counter()
    proc = subprocess.run(argv, env={**os.environ, **(env or {})}, cwd=cwd, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": int(proc.stderr.strip().splitlines()[-1]) / 1024}


def shared(script: str, *args: str) -> None:
    subprocess.run([sys.executable, str(SHARED_BENCH / script), *args], check=True, capture_output=True)


class Run:
    def __init__(self, work: Path, scale: str, runs: int) -> None:
        self.work, self.scale, self.runs = work, scale, runs
        self.dataset, self.mutated = work / "dataset", work / "dataset-mutated"
        self.rows: list[Row] = []
        self.notes: list[str] = []
        shared("gen_dataset.py", "--out", str(self.dataset), "--scale", scale)
        shutil.copytree(self.dataset, self.mutated, copy_function=shutil.copy2)
        shared("mutate.py", "--dir", str(self.mutated))

    def fresh(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.work))

    def repeat(self, tool: str, run: str, once: Callable[[], dict[str, float]]) -> None:
        self.rows.append(median_row(tool, run, [once() for _ in range(self.runs)]))

    # -- the machine's limit ----------------------------------------------------------------------
    def machine(self) -> None:
        self.repeat("cp -r", "copy", lambda: timed(["cp", "-r", str(self.dataset), str(self.fresh("cp") / "out")]))
        archive = self.work / "tree.tar.zst"

        def pack() -> dict[str, float]:
            result = timed(f"tar -C {self.dataset} -cf - . | zstd -T0 -3 -q -f -o {archive}")
            return {**result, "stored_mb": archive.stat().st_size / 1e6}

        self.repeat("tar|zstd -T0", "backup, first", pack)
        self.repeat(
            "tar|zstd -T0",
            "restore, all files",
            lambda: timed(f"zstd -d -c -q {archive} | tar -C {self.fresh('untar')} -xf -"),
        )

    # -- envclone ---------------------------------------------------------------------------------
    def envclone(self) -> None:
        firsts, unchanged, mutated, restores = [], [], [], []
        for _ in range(self.runs):
            env = self.fresh("env")
            child("import", str(env), str(self.dataset))
            first = child("backup", str(env))
            firsts.append({**first, "stored_mb": du_mb(env / "blobs", skip="files")})
            unchanged.append(child("backup", str(env)))
            before = du_mb(env / "blobs", skip="files")
            child("import", str(env), str(self.mutated))
            after = child("backup", str(env))
            mutated.append({**after, "stored_mb": du_mb(env / "blobs", skip="files") - before})
            restores.append(child("restore", str(env)))
        self.rows += [
            median_row("envclone", "backup, first", firsts),
            median_row("envclone", "backup, unchanged", unchanged),
            median_row("envclone", "backup, after mutate.py", mutated),
            median_row("envclone", "restore, all files", restores),
        ]

    def envclone_clone(self) -> None:
        firsts, again, mutated = [], [], []
        for _ in range(self.runs):
            src_dir, dst_dir = self.fresh("source"), self.fresh("target")
            child("import", str(src_dir / "data"), str(self.dataset))
            source, target = Server(src_dir / "data").start(), Server(dst_dir / "data").start()
            try:
                daily_maintenance(source)
                firsts.append(_clone_row(source, target))
                again.append(_clone_row(source, target))
                source.stop()
                child("import", str(src_dir / "data"), str(self.mutated))
                source = Server(src_dir / "data").start()
                mutated.append(_clone_row(source, target))
            finally:
                source.stop()
                target.stop()
        self.rows += [
            median_row("envclone", "clone, first", firsts),
            median_row("envclone", "clone, unchanged", again),
            median_row("envclone", "clone, after mutate.py", mutated),
        ]

    # -- envclone, distributed ---------------------------------------------------------------------
    def distributed(self, pg_url: str, ops: int, blob_stores: list[str]) -> None:
        import bench_distributed as bd

        why = bd.unreachable(pg_url)
        if why is not None:
            self.notes.append(
                f"distributed: PostgreSQL is not reachable at {sa_safe(pg_url)} ({why}); its rows are missing "
                "(start it, or pass --pg postgresql+psycopg://USER@HOST:PORT/DB)"
            )
            return
        store = bd.ObjectStore()
        try:
            for blobs in blob_stores:
                on = store if blobs == "s3" else None
                runs = [bd.series(self.work, pg_url, on, self.dataset, self.mutated) for _ in range(self.runs)]
                tool = DISTRIBUTED if blobs == "s3" else f"{DISTRIBUTED}, blob folder"
                for name in runs[0]:
                    self.rows.append(median_row(tool, name, [r[name] for r in runs]))
            if ops > 0:
                batches = [bd.throughput(self.work, pg_url, ops) for _ in range(self.runs)]
                for i, first in enumerate(batches[0]):
                    tool = "envclone" if first["mode"] == "embedded" else DISTRIBUTED
                    run = f"{ops} operations at once, {first['mode']}"
                    self.rows.append(median_row(tool, run, [b[i] for b in batches]))
        finally:
            store.stop()

    # -- peers ------------------------------------------------------------------------------------
    def restic(self) -> None:
        if shutil.which("restic") is None:
            self.notes.append("restic: not installed (apt-get install restic); its rows are missing")
            return

        def restic(repo: Path, *args: str) -> dict[str, float]:
            env = {**RESTIC_ENV, "RESTIC_REPOSITORY": str(repo)}
            return timed(["restic", "--cache-dir", f"{repo}-cache", "-q", *args], env=env)

        self._peer(
            "restic",
            init=lambda repo: restic(repo, "init"),
            backup=lambda repo, src: restic(repo, "backup", str(src)),
            restore=lambda repo, out: restic(repo, "restore", "latest", "--target", str(out)),
        )

    def borg(self) -> None:
        if shutil.which("borg") is None:
            self.notes.append("borg: not installed (apt-get install borgbackup); its rows are missing")
            return
        names = iter(range(1_000_000))

        def create(repo: Path, src: Path) -> dict[str, float]:
            # One name per archive; paths stored relative to where borg runs, as restic's are not.
            return timed(
                ["borg", "create", "--compression", "zstd,3", f"{repo}::a{next(names)}", "."], env=BORG_ENV, cwd=src
            )

        def extract(repo: Path, out: Path) -> dict[str, float]:
            listing = ["borg", "list", "--short", "--last", "1", str(repo)]
            env = {**os.environ, **BORG_ENV}
            last = subprocess.run(listing, env=env, check=True, capture_output=True, text=True).stdout.strip()
            return timed(["borg", "extract", f"{repo}::{last}"], env=BORG_ENV, cwd=out)

        self._peer(
            "borg",
            init=lambda repo: timed(["borg", "init", "--encryption", "none", str(repo)], env=BORG_ENV),
            backup=create,
            restore=extract,
        )

    def _peer(
        self,
        tool: str,
        *,
        init: Callable[[Path], dict[str, float]],
        backup: Callable[[Path, Path], dict[str, float]],
        restore: Callable[[Path, Path], dict[str, float]],
    ) -> None:
        firsts, unchanged, mutated, restores = [], [], [], []
        for _ in range(self.runs):
            repo = self.fresh(tool) / "repo"
            init(repo)
            firsts.append({**backup(repo, self.dataset), "stored_mb": du_mb(repo)})
            unchanged.append(backup(repo, self.dataset))
            before = du_mb(repo)
            after = backup(repo, self.mutated)
            mutated.append({**after, "stored_mb": du_mb(repo) - before})
            restores.append(restore(repo, self.fresh(f"{tool}-out")))
        self.rows += [
            median_row(tool, "backup, first", firsts),
            median_row(tool, "backup, unchanged", unchanged),
            median_row(tool, "backup, after mutate.py", mutated),
            median_row(tool, "restore, all files", restores),
        ]


def sa_safe(url: str) -> str:
    """A database URL as a note may show it: no password."""
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _clone_row(source: Server, target: Server) -> dict[str, float]:
    result = clone(source, target)
    return {"seconds": result["seconds"], "peak_rss_mb": target.peak_rss_mb(), "sent_mb": result["bytesSent"] / 1e6}


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in _lines("/proc/cpuinfo") if ln.startswith("model name")), "")
    mem = next((ln.split()[1] for ln in _lines("/proc/meminfo") if ln.startswith("MemTotal:")), "0")

    def version(*argv: str) -> str | None:
        if shutil.which(argv[0]) is None:
            return None
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else None

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(mem) / 1024 / 1024, 1),
        "system": platform.platform(),
        "python": platform.python_version(),
        "restic": version("restic", "version"),
        "borg": version("borg", "--version"),
        "zstd": version("zstd", "--version"),
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def ratios(rows: list[Row]) -> dict[tuple[str, str], float]:
    """envclone's time over each peer's, per run name (below 1: envclone is faster)."""
    ours = {r.run: r for r in rows if r.tool == "envclone"}
    return {
        (r.tool, r.run): ours[r.run].seconds / r.seconds
        for r in rows
        if not r.tool.startswith("envclone") and r.run in ours and r.seconds > 0
    }


def _mb(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} MB" if value >= 10 else f"{value:.1f} MB"


def table(rows: list[Row]) -> str:
    ratio = ratios(rows)
    peers = sorted({tool for tool, _ in ratio})
    head = "| tool | run | time | peak RSS | stored | sent |" + "".join(
        f" envclone / {p.replace('|', chr(92) + '|')} |" for p in peers
    )
    lines = [head, "|" + "---|" * (6 + len(peers))]
    for r in rows:
        mb = _mb
        run = r.run if r.per_minute is None else f"{r.run}: {r.per_minute:.0f} per minute"
        cells = [r.tool, run, f"{r.seconds:.2f} s", f"{r.peak_rss_mb:.0f} MB", mb(r.stored_mb), mb(r.sent_mb)]
        if r.tool == "envclone":
            others = {(t, run): v for (t, run), v in ratio.items() if run == r.run}
            cells += [f"{others[(p, r.run)]:.2f}x" if (p, r.run) in others else "-" for p in peers]
        else:
            cells += ["" for _ in peers]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the median is shown")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["machine", "restic", "borg", "clone", "embedded", "distributed"],
        help="leave a section out (embedded: envclone's own backup and restore rows)",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("ENVCLONE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL for the distributed rows (a database of its own is made per deployment)",
    )
    parser.add_argument(
        "--distributed-blobs",
        action="append",
        choices=["s3", "folder"],
        help="where the distributed rows keep blobs (default both: S3 on moto, and a shared folder)",
    )
    parser.add_argument("--ops", type=int, default=20, help="operations per batch of the throughput rows (0: none)")
    args = parser.parse_args()
    base = Path(args.workdir or tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="envclone-bench-", dir=base))
    started = time.perf_counter()
    try:
        run = Run(work, args.scale, args.runs)
        size, files = du_mb(run.dataset), sum(1 for p in run.dataset.rglob("*") if p.is_file())
        if "machine" not in args.skip:
            run.machine()
        if "embedded" not in args.skip:
            run.envclone()
        if "clone" not in args.skip:
            run.envclone_clone()
        if "distributed" not in args.skip:
            run.distributed(args.pg, args.ops, args.distributed_blobs or ["s3", "folder"])
        if "restic" not in args.skip:
            run.restic()
        if "borg" not in args.skip:
            run.borg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "bench/run " + " ".join(sys.argv[1:]),
        "scale": args.scale,
        "runs": args.runs,
        "dataset": {"mb": round(size), "files": files},
        "machine": machine(),
        "rows": [asdict(r) for r in run.rows],
        "ratios": {f"envclone / {tool}: {name}": round(v, 3) for (tool, name), v in ratios(run.rows).items()},
        "notes": run.notes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"scale {args.scale}: {size:.0f} MB in {files} files; median of {args.runs} run(s) per row\n")
    print(table(run.rows))
    for note in run.notes:
        print(f"\n- {note}")
    print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()
