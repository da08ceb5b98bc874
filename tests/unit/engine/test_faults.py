"""The test-only fault points: armed by ENVCLONE_FAULT, a point kills its process with SIGKILL
(nothing after it runs, as in a crash); any other point, or none armed, passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

SCRIPT = "from envclone.engine import faults; faults.point('after_commit', 'restoreEnvironment'); print('passed')"


def _run(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ENVCLONE_FAULT"}
    if fault is not None:
        env["ENVCLONE_FAULT"] = fault
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)


def test_an_armed_point_kills_its_process() -> None:
    ran = _run("after_commit:restoreEnvironment")
    assert ran.returncode == -signal.SIGKILL and "passed" not in ran.stdout, ran


@pytest.mark.parametrize("fault", [None, "", "after_commit:applyClone", "before_commit:restoreEnvironment"])
def test_other_points_pass(fault: str | None) -> None:
    ran = _run(fault)
    assert ran.returncode == 0 and ran.stdout.strip() == "passed", ran
