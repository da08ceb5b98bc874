"""Where ``cloneEnvironment`` takes the target password from, so that it need not sit on the
command line (which any user of the machine can read in the process list): a password file, the
ENVCLONE_TARGET_PASSWORD variable, or a prompt. TARGET_PASSWORD=... still works, with a warning."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import typer

from envclone.cli._epm_client import CommandError, errors

VARIABLE = "ENVCLONE_TARGET_PASSWORD"
MAX_FILE_BYTES = 64 * 1024
ASK = f"set {VARIABLE}, pass TARGET_PASSWORD_FILE=<file>, or run in a terminal to be asked"


def target_password(given: str | None, file: str | None) -> str:
    """The password from exactly one source: TARGET_PASSWORD, TARGET_PASSWORD_FILE, the variable,
    then (in a terminal) a prompt that does not echo."""
    if given is not None and file is not None:
        raise CommandError("give TARGET_PASSWORD or TARGET_PASSWORD_FILE, not both", 2)
    if given is not None:
        errors.print(
            f"[yellow]warning:[/] TARGET_PASSWORD on the command line is visible to every user of this machine "
            f"in the process list; {ASK}",
            soft_wrap=True,
        )
        return given
    if file is not None:
        return read_password_file(Path(file).expanduser())
    from_env = os.environ.get(VARIABLE)
    if from_env:
        return from_env
    if sys.stdin.isatty():
        return str(typer.prompt("Target password", hide_input=True))
    raise CommandError(f"the target password is required: {ASK}", 2)


def read_password_file(path: Path) -> str:
    """The first line of a file that only its owner can read (as ssh keys and .pgpass must be)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise CommandError(f"TARGET_PASSWORD_FILE {path} is not a file", 2)
        if os.name == "posix" and info.st_mode & 0o077:
            raise CommandError(f"TARGET_PASSWORD_FILE {path} may be read by other users: chmod 600 it first", 2)
        if info.st_size > MAX_FILE_BYTES:
            raise CommandError(f"TARGET_PASSWORD_FILE {path} is too large to be a password file", 2)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read TARGET_PASSWORD_FILE {path}: {type(exc).__name__}", 2) from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise CommandError(f"TARGET_PASSWORD_FILE {path} is empty", 2)
    return password
