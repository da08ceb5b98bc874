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
from envclone.cli._target_password import target_password
from envclone.cli.epm_automate import KeyValue, Options, parse_options
from envclone.domain.archives import age_text

# As the README lists them; migrateUsers is the EPM REST API's name for UsersAndPreDefinedRoles.
OPTIONS = (
    KeyValue("TARGET_USERNAME", "targetUserName"),
    KeyValue("TARGET_PASSWORD", "targetPassword"),
    KeyValue("TARGET_PASSWORD_FILE", "targetPasswordFile"),
    KeyValue("TARGET_URL", "targetURL"),
    KeyValue("SnapshotName", "snapshotName"),
    KeyValue("UsersAndPreDefinedRoles", "migrateUsers", boolean=True, aliases=("migrateUsers",)),
    KeyValue("DataManagement", "dataManagement", boolean=True),
    KeyValue("JobConsole", "jobConsole", boolean=True),
    KeyValue("ApplicationAudit", "applicationAudit", boolean=True),
    KeyValue("StoredSnapshotsAndFiles", "storedSnapshotsAndFiles", boolean=True),
    KeyValue("MaintenanceStartTime", "maintenanceStartTime", boolean=True),
    KeyValue("AppProperties", "appProperties", boolean=True),
    KeyValue("EnvironmentBackup", "environmentBackup", boolean=True),
)
REQUIRED = ("targetUserName", "targetURL")
PASSWORD_KEYS = ("targetPassword", "targetPasswordFile")


def body_from(options: dict[str, Any]) -> dict[str, Any]:
    """The EPM clone body. The target password comes from TARGET_PASSWORD, TARGET_PASSWORD_FILE,
    ENVCLONE_TARGET_PASSWORD or a prompt (cli._target_password)."""
    if any(name not in options for name in REQUIRED):
        raise CommandError("TARGET_USERNAME=... and TARGET_URL=... are required", 2)
    password = target_password(options.get("targetPassword"), options.get("targetPasswordFile"))
    parameters = {k: v for k, v in options.items() if k not in REQUIRED + PASSWORD_KEYS}
    return {
        "targetURL": options["targetURL"],
        "targetUserName": options["targetUserName"],
        "targetEncryptPassword": base64.b64encode(password.encode()).decode(),
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
    objects: Annotated[
        int,
        typer.Option(
            "--objects", min=0, max=100_000, help="With --dry-run: list up to N objects of each change per component"
        ),
    ] = 0,
) -> None:
    """Clone this environment to TARGET_URL (EPM Automate's cloneEnvironment)."""
    try:
        body = body_from(parse_options(options, OPTIONS))
        with EpmClient(url, user, password) as client:
            if dry_run:
                preview = client.call("POST", "/v1/clone/preview", json={**native_body(body), "list_limit": objects})
                if not _preview(preview, listing=objects > 0):
                    raise CommandError(f"the clone would fail: {preview.get('problem')}", 1)
                return
            client.epm("POST", "/v1/services/clone", json=body)
            latest = client.call("GET", "/v1/operations", params={"kind": "cloneEnvironment", "limit": 1})
            op = client.wait(int(latest["items"][0]["number"]), "cloneEnvironment")
    except CommandError as exc:
        errors.print(f"[red]error:[/] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    _steps(op)
    result = op.get("result") or {}
    _snapshot(result)
    if "bytesSent" in result:
        console.print(_sent(result))
    if not report(op, "cloneEnvironment"):
        raise typer.Exit(1)


def _sent(result: dict[str, Any]) -> str:
    return _transfer_line(int(result.get("bytesSent") or 0), int(result.get("chunksSent") or 0), result.get("chunks"))


def _transfer_line(nbytes: int, sent: int, chunks: object, *, preview: bool = False) -> str:
    """What a clone sent (or a dry run would send), saying "the rest" only when there is one."""
    total = int(str(chunks or 0))
    verb, had = ("would send", "has") if preview else ("sent", "had")
    if sent == 0:
        return f"{verb} nothing: the target already {had} all {total:,} chunks"
    if sent >= total:
        return f"{verb} {nbytes:,} bytes in all {total:,} chunks"
    return f"{verb} {nbytes:,} bytes in {sent:,} of {total:,} chunks (the target {had} the rest)"


def _steps(op: dict[str, Any]) -> None:
    table = Table("step", "result")
    for step in op.get("steps") or []:
        if step.get("result") != "pending":
            table.add_row(escape(str(step.get("message"))), escape(str(step.get("result"))))
    console.print(table)


KIND_LABELS = {"artifact_snapshot": "Artifact Snapshot", "environment_backup": "Environment Backup"}


def _snapshot(result: dict[str, Any], label: str = "snapshot used") -> None:
    """Which snapshot the clone sent (or a dry run would send) and how old it was; a warning when
    the source had changed since (the target then holds the snapshot's content, not the current one)."""
    snapshot = result.get("snapshot")
    if isinstance(snapshot, dict):
        kind = KIND_LABELS.get(str(snapshot.get("kind")), str(snapshot.get("kind")))
        console.print(
            f"{label}: {escape(str(snapshot.get('name')))} ({kind}), taken {snapshot.get('created')} UTC, "
            f"{age_text(int(snapshot.get('ageSeconds') or 0))} before the clone",
            soft_wrap=True,
        )
    for warning in result.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}", soft_wrap=True)


def _preview(preview: dict[str, Any], *, listing: bool) -> bool:
    """Print a dry run: its checks, then (if they pass) per component what would change and what
    would be sent. False if the clone would fail."""
    for check in preview.get("checks", []):
        mark = "[green]ok[/]" if check["ok"] else "[red]fails[/]"
        console.print(
            f"{mark} {escape(check['check'])}" + (f": {escape(check['problem'])}" if check.get("problem") else ""),
            soft_wrap=True,
        )
    if not preview.get("ok"):
        return False
    if preview.get("takes_snapshot"):
        console.print("no snapshot to clone from yet: the clone would take one first (this dry run took none)")
    _snapshot(preview, "snapshot to send")
    table = Table("component", "created", "replaced", "removed", "unchanged")
    changes: dict[str, Any] = preview.get("components") or {}
    for name, change in changes.items():
        table.add_row(name, *(f"{change[k]:,}" for k in ("created", "replaced", "removed", "unchanged")))
    console.print(table)
    if listing:
        for name, change in changes.items():
            _objects(name, change)
    nbytes, to_send = int(preview.get("bytes_to_send") or 0), int(preview.get("chunks_to_send") or 0)
    console.print(_transfer_line(nbytes, to_send, preview.get("chunks"), preview=True))
    return True


def _objects(name: str, change: dict[str, Any]) -> None:
    """The objects a component would create, replace and remove, saying how many were left out."""
    for what in ("created", "replaced", "removed"):
        listed, left_out = change["objects"][what], change.get("truncated", {}).get(what, 0)
        if not listed and not left_out:
            continue
        console.print(f"{escape(name)} {what} ({change[what]:,}):")
        for key in listed:
            console.print(f"  {escape(key)}", soft_wrap=True, highlight=False)
        if left_out:
            console.print(f"  ... and {left_out:,} more, not listed (--objects N lists up to N)")


def register(app: typer.Typer) -> None:
    app.command("cloneEnvironment")(clone_environment)
