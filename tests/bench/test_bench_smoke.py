"""The benchmark command runs end to end at a tiny scale (0.01, one run per row): every envclone
row is measured and written to the JSON report with the machine's description, and the peers that
are installed are measured beside it (those that are not are named in the notes). The distributed
rows (PostgreSQL, an S3 server, an API process and workers) have a run of their own, and without
PostgreSQL they are left out with a note (test_bench_distributed.py, a module of its own so that
the two long runs go to different test processes). Figures are not checked: they belong to the README,
measured on a quiet machine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# ../shared/bench beside the checkout (a worktree may sit one folder deeper than the main one).
SHARED = next((p / "shared" / "bench" for p in ROOT.parents if (p / "shared" / "bench").is_dir()), ROOT / "shared")
ENVCLONE_ROWS = {
    "backup, first",
    "backup, unchanged",
    "backup, after mutate.py",
    "restore, all files",
    "clone, first",
    "clone, unchanged",
    "clone, after mutate.py",
}


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "gen_dataset.py").exists(), reason="the shared reference dataset is not beside")
def test_bench_run_smoke(tmp_path: Path) -> None:
    report_path = tmp_path / "bench.json"
    command = [str(ROOT / "bench" / "run"), "--scale", "0.01", "--runs", "1", "--json", str(report_path)]
    command += ["--skip", "distributed"]  # test_bench_distributed.py
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(report_path.read_text())
    rows = {(r["tool"], r["run"]): r for r in report["rows"]}
    assert {run for tool, run in rows if tool == "envclone"} == ENVCLONE_ROWS
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in rows.values())
    assert rows[("envclone", "backup, first")]["stored_mb"] > 0
    assert rows[("envclone", "clone, unchanged")]["sent_mb"] == 0  # nothing changed, nothing sent
    assert rows[("envclone", "clone, after mutate.py")]["sent_mb"] > 0
    assert ("tar|zstd -T0", "backup, first") in rows and ("cp -r", "copy") in rows
    for peer in ("restic", "borg"):
        measured = any(tool == peer for tool, _ in rows)
        assert measured or any(note.startswith(f"{peer}:") for note in report["notes"])
    assert report["machine"]["cpus"] >= 1 and report["dataset"]["files"] > 0
    assert "| envclone | backup, first |" in out.stdout
