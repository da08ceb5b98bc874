"""The distributed rows of the benchmark command (PostgreSQL, an S3 server, an API process and
workers) at a tiny scale, and their note when PostgreSQL is not reachable. Apart from
test_bench_smoke.py so that the two long runs go to different test processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.bench.test_bench_smoke import ENVCLONE_ROWS, ROOT, SHARED

ONLY_DISTRIBUTED = ["--skip", "machine", "--skip", "restic", "--skip", "borg", "--skip", "clone", "--skip", "embedded"]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # several deployments started one after the other (9 min on a loaded 2-core machine)
@pytest.mark.skipif(not (SHARED / "gen_dataset.py").exists(), reason="the shared reference dataset is not beside")
def test_bench_run_distributed_smoke(tmp_path: Path, pg_available: bool) -> None:
    """The distributed rows, on S3 and on a shared blob folder, under the embedded rows' names, with
    operations per minute for the embedded server and 1 and 2 workers; without PostgreSQL, a note
    instead."""
    report_path = tmp_path / "bench.json"
    command = [str(ROOT / "bench" / "run"), "--scale", "0.01", "--runs", "1", "--ops", "2", *ONLY_DISTRIBUTED]
    command += ["--json", str(report_path), "--workdir", str(tmp_path)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1700, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(report_path.read_text())
    rows = {(r["tool"], r["run"]): r for r in report["rows"]}
    if not pg_available:
        assert rows == {} and any(note.startswith("distributed:") for note in report["notes"])
        return
    throughput = {"2 operations at once, 1 worker", "2 operations at once, 2 workers"}
    for tool, extra in (("envclone, distributed", throughput), ("envclone, distributed, blob folder", set())):
        distributed = {run: r for (t, run), r in rows.items() if t == tool}
        assert set(distributed) == ENVCLONE_ROWS | extra, tool
        assert distributed["backup, first"]["stored_mb"] > 0  # what the bucket (or folder) holds
        assert distributed["clone, unchanged"]["sent_mb"] == 0
        assert distributed["clone, after mutate.py"]["sent_mb"] > 0
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in rows.values())
    per_minute = {run: r["per_minute"] for (tool, run), r in rows.items() if r["per_minute"] is not None}
    assert set(per_minute) == {
        "2 operations at once, embedded",
        "2 operations at once, 1 worker",
        "2 operations at once, 2 workers",
    }
    assert all(v > 0 for v in per_minute.values())
    assert "| envclone, distributed | restore, all files |" in out.stdout


def test_bench_run_notes_unreachable_postgresql(tmp_path: Path) -> None:
    """No PostgreSQL where --pg says: the distributed rows are left out with a note naming it."""
    if not (SHARED / "gen_dataset.py").exists():
        pytest.skip("the shared reference dataset is not beside")
    report_path = tmp_path / "bench.json"
    nowhere = "postgresql+psycopg://postgres:secret@127.0.0.1:1/postgres"
    command = [str(ROOT / "bench" / "run"), "--scale", "0.01", "--runs", "1", "--pg", nowhere, *ONLY_DISTRIBUTED]
    command += ["--json", str(report_path), "--workdir", str(tmp_path)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["rows"] == []
    (note,) = report["notes"]
    assert note.startswith("distributed: PostgreSQL is not reachable at postgresql+psycopg://postgres:***@127.0.0.1:1")
    assert "secret" not in out.stdout and "secret" not in note
