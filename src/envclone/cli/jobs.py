"""``envclone cloneJob``, ``runJob``, ``stopJob`` and ``listJobRuns``, in the EPM Automate style of
the other commands: a job named by its UID or its name, key=value options, live progress, the
server's native /v1/jobs endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.table import Table

from envclone.cli._epm_client import CommandError, EpmClient, console, report
from envclone.cli._options import Password, Url, User
from envclone.cli.epm_automate import KeyValue, Options, failures, parse_options

Job = Annotated[str, typer.Argument(help="the job's UID (urn:veeam:Job:...) or its name")]
CLONE_OPTIONS = (
    KeyValue("FolderName", "folder_name", aliases=("JobFileName",)),
    KeyValue("RepositoryUid", "repository_uid"),
    KeyValue("VmSuffix", "vm_suffix"),
    KeyValue("Description", "description"),
)


def job_uid(client: EpmClient, job: str) -> str:
    """The UID of the job named ``job`` (a UID is taken as it is)."""
    if job.startswith("urn:"):
        return job
    items = client.call("GET", "/v1/jobs", params={"name": job}).get("items") or []
    if not items:
        raise CommandError(f"no job named {job!r}", 4)
    return str(items[0]["uid"])


def _path(uid: str, action: str) -> str:
    return f"/v1/jobs/{quote(uid, safe=':')}/{action}"


def clone_job(
    job: Job,
    name: Annotated[str, typer.Argument(help="the new job's name (up to 50 characters, unique)")],
    options: Options = None,
    url: Url = "",
    user: User = "admin",
    password: Password = "",
) -> None:
    """Clone a job under a new name (FolderName= and RepositoryUid= for backup and copy jobs,
    VmSuffix= for replication jobs; Description= for any)."""
    with failures():
        body = {"name": name, **parse_options(options, CLONE_OPTIONS)}
        with EpmClient(url, user, password) as client:
            op = client.call("POST", _path(job_uid(client, job), "clone"), json=body)
            final = client.wait(int(op["number"]), "cloneJob")
    if not report(final, "cloneJob"):
        raise typer.Exit(1)
    console.print(f"new job: {escape(str(final['result'].get('jobUid')))}", highlight=False)


def run_job(job: Job, url: Url = "", user: User = "admin", password: Password = "") -> None:
    """Run a job now (a backup, a replication or a backup copy, by its kind), following its steps."""
    with failures(), EpmClient(url, user, password) as client:
        op = client.call("POST", _path(job_uid(client, job), "run"))
        final = client.wait(int(op["number"]), "runJob")
    if not report(final, "runJob"):
        raise typer.Exit(1)
    console.print(_summary(final.get("result") or {}), highlight=False)


def stop_job(job: Job, url: Url = "", user: User = "admin", password: Password = "") -> None:
    """Stop the job's run: it ends as cancelled, leaving no partial backup."""
    with failures(), EpmClient(url, user, password) as client:
        op = client.call("POST", _path(job_uid(client, job), "stop"))
    console.print(f"run {op['number']} of the job is stopping", highlight=False)


def list_job_runs(job: Job, url: Url = "", user: User = "admin", password: Password = "") -> None:
    """The job's runs, newest first."""
    with failures(), EpmClient(url, user, password) as client:
        runs = client.call("GET", _path(job_uid(client, job), "runs")).get("items") or []
    if not runs:
        console.print("No runs yet.")
        return
    table = Table("number", "kind", "status", "created", "ended", "result")
    for op in runs:
        outcome = (op.get("error") or {}).get("message") or _summary(op.get("result") or {})
        table.add_row(
            str(op["number"]), op["kind"], op["status"], str(op["created"]), str(op.get("ended") or ""), escape(outcome)
        )
    console.print(table)


def _summary(result: dict[str, Any]) -> str:
    """What the run made: the backup file, the replica, or the copies, and the bytes it moved."""
    if result.get("fileName"):
        return f"{result['fileName']} ({result.get('size', 0):,} bytes)"
    if result.get("replicaName"):
        return f"replica {result['replicaName']}: {result.get('bytesSent', 0):,} bytes sent"
    if "copied" in result:
        return f"{len(result['copied'])} backup(s) copied, {result.get('bytesSent', 0):,} bytes sent"
    return ""


COMMANDS: dict[str, Callable[..., None]] = {
    "cloneJob": clone_job,
    "runJob": run_job,
    "stopJob": stop_job,
    "listJobRuns": list_job_runs,
}


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS.items():
        app.command(name)(command)
