"""Commands in the style of EPM Automate (``listBackups``, ``restoreEnvironment``, ``restoreBackup``,
``runDailyMaintenance``, ``set/getDailyMaintenanceStartTime``, ``verify``) against any envclone
server over HTTP: EPM endpoints to act, the native operation endpoint to follow progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from envclone.cli._epm_client import CommandError, EpmClient, console, errors, job_number, report
from envclone.cli._options import Password, Url, User

Options = Annotated[list[str] | None, typer.Argument(help="key=value options, as EPM Automate takes them")]


@dataclass(frozen=True)
class KeyValue:
    """One key=value option: its spelling as EPM Automate and the README write it (the one every
    message shows), the request field it sets, whether it takes true|false, and other spellings
    it also answers to (keys are matched case-insensitively)."""

    spelling: str
    field: str
    boolean: bool = False
    aliases: tuple[str, ...] = ()


RESTORE_OPTIONS = (
    KeyValue("UsersAndPreDefinedRoles", "usersAndPreDefinedRoles", boolean=True),
    KeyValue("DailyMaintenanceStartTime", "dailyMaintenanceStartTime", boolean=True),
    KeyValue("StoredSnapshotsAndFiles", "storedSnapshotsAndFiles", boolean=True),
)


def parse_options(args: list[str] | None, known: Sequence[KeyValue]) -> dict[str, Any]:
    """``Key=value`` pairs, keys matched case-insensitively, into request fields; values of
    boolean keys true|false."""
    by_key = {name.lower(): option for option in known for name in (option.spelling, *option.aliases)}
    parsed: dict[str, Any] = {}
    for arg in args or []:
        key, sep, value = arg.partition("=")
        option = by_key.get(key.strip().lower())
        if not sep or option is None:
            takes = ", ".join(o.spelling for o in known) or "no options"
            raise CommandError(f"unknown option {arg!r}: this command takes {takes} (as key=value)", 2)
        if option.boolean:
            if value.strip().lower() not in ("true", "false"):
                raise CommandError(f"{option.spelling} must be true or false, not {value!r}", 2)
            parsed[option.field] = value.strip().lower() == "true"
        elif not value.strip():
            raise CommandError(f"{option.spelling} needs a value", 2)
        else:
            parsed[option.field] = value.strip()
    return parsed


@contextmanager
def _failures() -> Iterator[None]:
    try:
        yield
    except CommandError as exc:
        errors.print(f"[red]error:[/] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def _run_job(client: EpmClient, body: dict[str, Any], command: str) -> None:
    op = client.wait(job_number(body), command)
    if not report(op, command):
        raise typer.Exit(1)


def list_backups(url: Url = "", user: User = "admin", password: Password = "") -> None:
    """List the archived backups (Artifact Snapshots and Environment Backups)."""
    with _failures(), EpmClient(url, user, password) as client:
        names = client.epm("GET", "/v2/backups/list").get("items") or []
    for name in names:
        console.print(escape(str(name)), highlight=False)
    if not names:
        console.print("No backups yet: they are made by daily maintenance.")


def restore_environment(
    backup_name: Annotated[str, typer.Argument(help="Environment Backup, as listBackups shows it")],
    options: Options = None,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Replace this environment's content with an Environment Backup's."""
    job = ("/v1/services/restoreenvironment", "restoreEnvironment")
    _run_backup_job(job, backup_name, options, RESTORE_OPTIONS, (url, user, password))


def restore_backup(
    snapshot_name: Annotated[str, typer.Argument(help="Backup to copy in, as listBackups shows it")],
    options: Options = None,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Copy an archived backup into the environment as a stored snapshot."""
    job = ("/v2/backups/restore", "restoreBackup")
    _run_backup_job(job, snapshot_name, options, (KeyValue("targetName", "targetName"),), (url, user, password))


def _run_backup_job(
    job: tuple[str, str],
    backup_name: str,
    options: list[str] | None,
    known: Sequence[KeyValue],
    login: tuple[str, str, str],
) -> None:
    """Start ``job`` (path, command name) on ``backup_name`` with the options given, and follow it."""
    path, command = job
    with _failures():
        params = parse_options(options, known)
        with EpmClient(*login) as client:
            body = {"backupName": backup_name, "parameters": params}
            _run_job(client, client.epm("POST", path, json=body), command)


def run_daily_maintenance(
    options: Options = None,
    force: Annotated[bool, typer.Option("-f", "--force", help="Do not ask for confirmation")] = False,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Run daily maintenance now: an Artifact Snapshot and an Environment Backup."""
    with _failures():
        params = parse_options(options, (KeyValue("skipNext", "skipNext", boolean=True),))
        if not force:
            if not sys.stdin.isatty():
                raise CommandError("runDailyMaintenance asks for confirmation; without a terminal, pass -f", 2)
            if not typer.confirm("Daily maintenance makes the environment busy for a while. Continue?"):
                raise CommandError("cancelled: nothing was started", 1)
        with EpmClient(url, user, password) as client:
            body = client.epm("POST", "/v2/maintenance/rundailymaintenance", json={"skipNext": False, **params})
            _run_job(client, body, "runDailyMaintenance")


def set_daily_maintenance_start_time(
    start_time: Annotated[str, typer.Argument(help="HH:MM, 24-hour, optionally followed by a time zone")],
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Set the time at which daily maintenance runs."""
    with _failures(), EpmClient(url, user, password) as client:
        body = client.epm("PUT", "/v2/maintenance/setdailymaintenancestarttime", json={"startTime": start_time})
    console.print(f"Daily maintenance start time: {escape(_time_of(body))}", highlight=False)


def get_daily_maintenance_start_time(url: Url = "", user: User = "admin", password: Password = "") -> None:
    """Show the time at which daily maintenance runs."""
    with _failures(), EpmClient(url, user, password) as client:
        body = client.epm("GET", "/v2/maintenance/getdailymaintenancestarttime")
    console.print(escape(_time_of(body)), highlight=False)


def _time_of(body: dict[str, Any]) -> str:
    return f"{body.get('dailyMaintenanceStartTime')} {body.get('timeZone') or ''}".strip()


def verify(
    backup: Annotated[str | None, typer.Argument(help="Backup (default: the latest Environment Backup)")] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Check the live store's file contents instead of a backup")
    ] = False,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Read every chunk of a backup and check every hash (or, with --live, every stored file)."""
    with _failures(), EpmClient(url, user, password) as client:
        if live:
            if backup is not None:
                raise CommandError("--live checks the live store: name no backup with it", 2)
            op = client.call("POST", "/v1/store/verify")
            final = client.wait(int(op["number"]), "verify")
            if not report(final, "verify --live"):
                raise typer.Exit(1)
            return
        if backup is None:
            items = client.call("GET", "/v1/backups", params={"kind": "environment_backup"}).get("items") or []
            if not items:
                raise CommandError("there is no Environment Backup to verify yet", 4)
            backup = str(items[-1]["name"])
        op = client.call("POST", f"/v1/backups/{quote(backup, safe='')}/verify")
        final = client.wait(int(op["number"]), "verify")
    if not report(final, f"verify {backup}"):
        raise typer.Exit(1)


COMMANDS: dict[str, Callable[..., None]] = {
    "listBackups": list_backups,
    "restoreEnvironment": restore_environment,
    "restoreBackup": restore_backup,
    "runDailyMaintenance": run_daily_maintenance,
    "setDailyMaintenanceStartTime": set_daily_maintenance_start_time,
    "getDailyMaintenanceStartTime": get_daily_maintenance_start_time,
    "verify": verify,
}


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS.items():
        app.command(name)(command)
