"""``envclone cloneEnvironment``, as EPM Automate takes it: clone the environment at --url to
TARGET_URL through the EPM clone API, following the steps live, exiting non-zero on failure."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from envclone.cli._epm_client import CommandError, EpmClient, console, errors, report
from envclone.cli._options import Password, Url, User
from envclone.cli.epm_automate import Options, parse_options
from envclone.domain.archives import age_text

ALLOWED = {
    "target_username": "targetUserName",
    "target_password": "targetPassword",
    "target_url": "targetURL",
    "snapshotname": "snapshotName",
    "environmentbackup": "environmentBackup",
    "usersandpredefinedroles": "migrateUsers",
    "migrateusers": "migrateUsers",
    "datamanagement": "dataManagement",
    "jobconsole": "jobConsole",
    "applicationaudit": "applicationAudit",
    "storedsnapshotsandfiles": "storedSnapshotsAndFiles",
    "maintenancestarttime": "maintenanceStartTime",
    "appproperties": "appProperties",
}
BOOLEANS = frozenset(
    {
        "environmentBackup",
        "migrateUsers",
        "dataManagement",
        "jobConsole",
        "applicationAudit",
        "storedSnapshotsAndFiles",
        "maintenanceStartTime",
        "appProperties",
    }
)
REQUIRED = ("targetUserName", "targetPassword", "targetURL")


def body_from(options: dict[str, Any]) -> dict[str, Any]:
    missing = [f"{name.upper() if name != 'targetURL' else 'TARGET_URL'}" for name in REQUIRED if name not in options]
    if missing:
        raise CommandError("TARGET_USERNAME=..., TARGET_PASSWORD=... and TARGET_URL=... are required", 2)
    parameters = {k: v for k, v in options.items() if k not in REQUIRED}
    return {
        "targetURL": options["targetURL"],
        "targetUserName": options["targetUserName"],
        "targetEncryptPassword": base64.b64encode(str(options["targetPassword"]).encode()).decode(),
        "parameters": parameters,
    }


def native_body(body: dict[str, Any]) -> dict[str, Any]:
    parameters = dict(body["parameters"])
    return {
        "target_url": body["targetURL"],
        "target_user": body["targetUserName"],
        "target_password": base64.b64decode(body["targetEncryptPassword"]).decode(),
        "snapshot_name": parameters.pop("snapshotName", None),
        "environment_backup": parameters.pop("environmentBackup", False),
        "options": parameters,
    }


def clone_environment(
    options: Options = None,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the clone would do; change nothing")] = False,
) -> None:
    """Clone this environment to TARGET_URL (EPM Automate's cloneEnvironment)."""
    try:
        body = body_from(parse_options(options, ALLOWED, BOOLEANS))
        with EpmClient(url, user, password) as client:
            if dry_run:
                _preview(client.call("POST", "/v1/clone/preview", json=native_body(body)))
                return
            client.epm("POST", "/v1/services/clone", json=body)
            latest = client.call("GET", "/v1/operations", params={"kind": "cloneEnvironment", "limit": 1})
            op = client.wait(int(latest["items"][0]["number"]), "cloneEnvironment")
    except CommandError as exc:
        errors.print(f"[red]error:[/] {escape(exc.message)}")
        raise typer.Exit(exc.exit_code) from None
    _steps(op)
    result = op.get("result") or {}
    _snapshot(result)
    if "bytesSent" in result:
        console.print(
            f"sent {result['bytesSent']:,} bytes in {result.get('chunksSent', 0)} of "
            f"{result.get('chunks', 0)} chunks (the target had the rest)"
        )
    if not report(op, "cloneEnvironment"):
        raise typer.Exit(1)


def _steps(op: dict[str, Any]) -> None:
    table = Table("step", "result")
    for step in op.get("steps") or []:
        if step.get("result") != "pending":
            table.add_row(escape(str(step.get("message"))), escape(str(step.get("result"))))
    console.print(table)


KIND_LABELS = {"artifact_snapshot": "Artifact Snapshot", "environment_backup": "Environment Backup"}


def _snapshot(result: dict[str, Any]) -> None:
    """Which snapshot the clone sent and how old it was; a warning when the source had changed
    since (the target then holds the snapshot's content, not the source's current one)."""
    snapshot = result.get("snapshot")
    if isinstance(snapshot, dict):
        kind = KIND_LABELS.get(str(snapshot.get("kind")), str(snapshot.get("kind")))
        console.print(
            f"snapshot used: {escape(str(snapshot.get('name')))} ({kind}), taken {snapshot.get('created')} UTC, "
            f"{age_text(int(snapshot.get('ageSeconds') or 0))} before the clone",
            soft_wrap=True,
        )
    for warning in result.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}", soft_wrap=True)


def _preview(preview: dict[str, Any]) -> None:
    for check in preview.get("checks", []):
        mark = "[green]ok[/]" if check["ok"] else "[red]fails[/]"
        console.print(
            f"{mark} {escape(check['check'])}" + (f": {escape(check['problem'])}" if check.get("problem") else "")
        )
    table = Table("component", "created", "replaced", "removed", "unchanged")
    for name, change in (preview.get("components") or {}).items():
        table.add_row(name, *(str(change.get(k, "-")) for k in ("created", "replaced", "removed", "unchanged")))
    console.print(table)
    console.print(
        f"would send {preview.get('bytes_to_send', 0):,} bytes "
        f"({preview.get('chunks_to_send', 0)} of {preview.get('chunks', 0)} chunks)"
    )


def register(app: typer.Typer) -> None:
    app.command("cloneEnvironment")(clone_environment)
