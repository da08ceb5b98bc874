"""``envclone cloneEnvironment`` takes the target password without putting it on the command line
(where the process list shows it to every user): from ENVCLONE_TARGET_PASSWORD or a password file
only its owner can read; TARGET_PASSWORD=... still works but warns. Dry runs, so nothing changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.e2e.conftest import TARGET_PASSWORD, ServerPair

LOGIN_OK = "ok Login to target environment"


def dry_run(pair: ServerPair, *options: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    target = (f"TARGET_USERNAME={ADMIN}", f"TARGET_URL={pair.target.url}")
    args = ("cloneEnvironment", *target, *options, "--dry-run", "--url", pair.source.url, "-u", ADMIN)
    done = subprocess.run(
        [sys.executable, "-m", "envclone.cli.main", *args],
        env={**clean, "COLUMNS": "200", "ENVCLONE_PASSWORD": ADMIN_PASSWORD, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
    )
    raw = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert TARGET_PASSWORD not in raw, raw
    return done.returncode, " ".join(raw.split())


def test_from_the_environment_variable(pair: ServerPair) -> None:
    code, out = dry_run(pair, env={"ENVCLONE_TARGET_PASSWORD": TARGET_PASSWORD})
    assert code == 0 and LOGIN_OK in out and "warning" not in out, out


def test_from_a_password_file_only_its_owner_reads(pair: ServerPair, tmp_path: Path) -> None:
    secret = tmp_path / "target.pw"
    secret.write_text(TARGET_PASSWORD + "\n")
    secret.chmod(0o600)
    code, out = dry_run(pair, f"TARGET_PASSWORD_FILE={secret}")
    assert code == 0 and LOGIN_OK in out, out
    secret.chmod(0o644)
    code, out = dry_run(pair, f"TARGET_PASSWORD_FILE={secret}")
    assert code == 2 and "chmod 600" in out, out


def test_on_the_command_line_it_still_works_with_a_warning(pair: ServerPair) -> None:
    code, out = dry_run(pair, f"TARGET_PASSWORD={TARGET_PASSWORD}")
    assert code == 0 and LOGIN_OK in out, out
    assert "warning: TARGET_PASSWORD on the command line is visible" in out, out


def test_missing_without_a_terminal_says_where_to_put_it(pair: ServerPair, tmp_path: Path) -> None:
    code, out = dry_run(pair)
    assert code == 2 and "ENVCLONE_TARGET_PASSWORD" in out and "TARGET_PASSWORD_FILE" in out, out
    code, out = dry_run(pair, "TARGET_PASSWORD=x", f"TARGET_PASSWORD_FILE={tmp_path / 'none'}")
    assert code == 2 and "not both" in out, out
