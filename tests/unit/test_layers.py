"""The import-linter contracts in pyproject.toml hold, and they can fail: each test copies the
package, adds one import that a contract forbids, and checks that lint-imports refuses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on the path, ahead of the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("layers") / "src"
    shutil.copytree(ROOT / "src" / "envclone", src / "envclone", ignore=shutil.ignore_patterns("__pycache__"))
    return src


@contextmanager
def _with_import(package_copy: Path, module: str, line: str) -> Iterator[None]:
    path = package_copy / "envclone" / module
    original = path.read_text()
    path.write_text(f"{original}\n{line}\n")
    try:
        yield
    finally:
        path.write_text(original)


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("api/epm/routes.py", "import envclone.operations.restore", "Dialects reach the core only through services"),
        ("api/native/clone.py", "from envclone.store import tables", "Dialects reach the core only through services"),
        ("cli/diff.py", "import envclone.engine", "The CLI reaches the core only through services"),
        ("api/epm/render.py", "import envclone.api.native.schemas", "Dialects are independent"),
        ("operations/restore/run.py", "import envclone.operations.clone.send", "Operations are independent"),
        ("engine/runner.py", "import envclone.services.context", "Layers, top to bottom"),
    ],
)
def test_a_forbidden_import_breaks_the_check(package_copy: Path, module: str, line: str, contract: str) -> None:
    with _with_import(package_copy, module, line):
        result = _lint(package_copy)
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout


def test_the_tree_as_it_is_keeps_every_contract(package_copy: Path) -> None:
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout
    assert " 0 broken" in result.stdout, result.stdout


def test_a_renamed_layer_fails_the_check_instead_of_dropping_out(package_copy: Path) -> None:
    engine = package_copy / "envclone" / "engine"
    renamed = engine.with_name("engine_renamed")
    engine.rename(renamed)
    try:
        result = _lint(package_copy)
    finally:
        renamed.rename(engine)
    assert result.returncode != 0, result.stdout
    assert "Missing layer 'envclone.engine'" in result.stdout + result.stderr
