"""``envclone cloneEnvironment`` (EPM Automate's command) and ``envclone demo`` against real servers:
the exit code, what is printed, and the target's digests afterwards; a failing clone exits non-zero
with the reason, ``--dry-run`` changes nothing, and no password is ever printed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.builders import make_environment, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.e2e.client import digests, operation_ids
from tests.e2e.clone import clone_ops, latest_clone
from tests.e2e.conftest import TARGET_PASSWORD, ServerPair


@dataclass(frozen=True)
class Run:
    code: int
    out: str  # stdout and stderr, whitespace collapsed (Rich wraps long lines)
    raw: str


def envclone(*args: str, timeout: float = 300) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        [sys.executable, "-m", "envclone.cli.main", *args], env=env, capture_output=True, timeout=timeout
    )
    raw = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    return Run(done.returncode, " ".join(raw.split()), raw)


def clone_command(pair: ServerPair, password: str, *options: str) -> tuple[str, ...]:
    target = (f"TARGET_USERNAME={ADMIN}", f"TARGET_PASSWORD={password}", f"TARGET_URL={pair.target.url}")
    return ("cloneEnvironment", *target, *options, "--url", pair.source.url, "-u", ADMIN, "-p", ADMIN_PASSWORD)


def test_clone_environment_exits_0_and_the_digests_match(pair: ServerPair) -> None:
    make_environment(pair.tgt, start_time="07:15")
    before = digests(pair.tgt)
    run = envclone(*clone_command(pair, TARGET_PASSWORD, "DataManagement=false"))
    assert run.code == 0, run.raw
    assert "cloneEnvironment completed successfully" in run.out, run.raw
    assert TARGET_PASSWORD not in run.raw and ADMIN_PASSWORD not in run.raw
    op = latest_clone(pair.src)
    assert op["status"] == "succeeded" and op["parameters"]["options"] == {"dataManagement": False}, op
    after, theirs = digests(pair.tgt), digests(pair.src)
    carried = ("artifacts", "configuration", "jobs", "settings", "jobConsole", "applicationAudit")
    assert {c: after[c] for c in carried} == {c: theirs[c] for c in carried}
    kept = ("dataManagement", "users", "files")  # DataManagement=false; migrateUsers, files off by default
    assert {c: after[c] for c in kept} == {c: before[c] for c in kept}
    assert {c: before[c] for c in kept} != {c: theirs[c] for c in kept}


def test_a_failing_clone_exits_non_zero_with_the_details(pair: ServerPair) -> None:
    wrong = f"Wrong-{tag()}"
    before = digests(pair.tgt)
    run = envclone(*clone_command(pair, wrong))
    assert run.code != 0, run.raw
    assert "cloneEnvironment failed" in run.out, run.raw
    assert f"login to the target environment as {ADMIN} failed" in run.out, run.raw
    assert wrong not in run.raw and ADMIN_PASSWORD not in run.raw
    assert latest_clone(pair.src)["status"] == "failed"
    assert digests(pair.tgt) == before


def test_dry_run_prints_the_preview_and_changes_nothing(pair: ServerPair) -> None:
    make_environment(pair.tgt)
    before, source_clones, target_ops = digests(pair.tgt), clone_ops(pair.src), operation_ids(pair.tgt)
    run = envclone(*clone_command(pair, TARGET_PASSWORD, "storedSnapshotsAndFiles=true"), "--dry-run")
    assert run.code == 0, run.raw
    assert "ok Login to target environment" in run.out and "fails" not in run.out, run.raw
    for column in ("component", "created", "replaced", "removed", "unchanged"):
        assert column in run.out, run.raw
    for component in ("artifacts", "files", "settings", "dataManagement"):
        assert component in run.out, run.raw
    assert "would send" in run.out, run.raw
    assert TARGET_PASSWORD not in run.raw
    assert digests(pair.tgt) == before
    assert clone_ops(pair.src) == source_clones and operation_ids(pair.tgt) == target_ops


def test_dry_run_with_a_wrong_password_shows_the_failing_check_and_exits_non_zero(pair: ServerPair) -> None:
    before = digests(pair.tgt)
    run = envclone(*clone_command(pair, f"Wrong-{tag()}"), "--dry-run")
    assert run.code == 1, run.raw
    assert "fails Login to target environment" in run.out, run.raw
    assert f"error: the clone would fail: login to the target environment as {ADMIN} failed" in run.out, run.raw
    assert "would send" not in run.out, run.raw
    assert digests(pair.tgt) == before


def test_demo_clones_two_fresh_servers_exactly(tmp_path: Path) -> None:
    run = envclone("demo", "--exit", "--directory", str(tmp_path / "demo"), timeout=400)
    assert run.code == 0, run.raw
    assert "exact copy" in run.out, run.raw
    assert "cloneEnvironment completed successfully" in run.out, run.raw
