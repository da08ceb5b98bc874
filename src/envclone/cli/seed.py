"""``envclone seed``: fill an environment with realistic, deterministic content of a given size,
through a running server's native API (batch endpoints, streamed file uploads) or directly into a
data directory. Seeding twice into the same environment fails on the first conflict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from envclone.cli._options import Password, User
from envclone.content.seeddata import RECORD_SECTIONS, Section, SeedData, Size, chunked
from envclone.errors import EnvcloneError
from envclone.peer import PeerClient, PeerError
from envclone.settings import load_settings

console = Console()
errors = Console(stderr=True)
Report = Callable[[Section, int], None]

# Items per request: well under the server's 16 MiB body and 50,000-item limits.
API_CHUNK = 2_000
BATCH_PATHS: dict[Section, str] = {
    Section.USERS: "/v1/users/batch",
    Section.GROUPS: "/v1/groups/batch",
    Section.GROUP_MEMBERS: "/v1/groups/{group_name}/members/batch",
    Section.ROLE_ASSIGNMENTS: "/v1/role-assignments/batch",
    Section.OBJECTS: "/v1/projects/{project_id}/objects/batch",
    Section.PROFILE_FOLDERS: "/v1/projects/{project_id}/profile-folders/batch",
    Section.SUBSCRIPTIONS: "/v1/projects/{project_id}/subscriptions/batch",
    Section.CONFIG_OBJECTS: "/v1/configuration-objects/batch",
    Section.REPOSITORIES: "/v1/repositories/batch",
    Section.JOBS: "/v1/jobs/batch",
    **{section: f"/v1/records/{section.value}" for section in RECORD_SECTIONS},
}
# Collections without a batch endpoint: a handful of items, created one by one.
SINGLE_PATHS: dict[Section, str] = {Section.ROLES: "/v1/roles", Section.PROJECTS: "/v1/projects"}


def _json(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in item.items()}


def seed_api(client: PeerClient, data: SeedData, report: Report) -> dict[str, int]:
    """Send all seed content to a server; returns how many items of each section it created."""
    created: dict[str, int] = {}
    for step in data.steps():
        scope = {name: quote(value, safe="") for name, value in step.scope.items()}
        count = 0
        if step.section in SINGLE_PATHS:
            for item in step.items:
                client.post(SINGLE_PATHS[step.section], item)
                count += 1
                report(step.section, 1)
        else:
            path = BATCH_PATHS[step.section].format(**scope)
            for chunk in chunked(step.items, API_CHUNK):
                done = int(client.post(path, {"items": [_json(item) for item in chunk]})["created"])
                count += done
                report(step.section, done)
        created[step.section.value] = created.get(step.section.value, 0) + count
    files = size = 0
    for seed_file in data.files():
        path = f"/v1/files/{seed_file.area}/{quote(seed_file.name, safe='')}?modified={seed_file.modified.isoformat()}"
        size += int(client.upload(path, _reported(seed_file.chunks(), report))["size"])
        files += 1
    created[Section.FILES.value], created["file bytes"] = files, size
    client.request("PATCH", "/v1/settings", json=data.settings())
    created[Section.SETTINGS.value] = len(data.settings())
    report(Section.SETTINGS, len(data.settings()))
    return created


def _reported(chunks: Iterator[bytes], report: Report) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        report(Section.FILES, len(chunk))


@contextmanager
def _progress(data: SeedData) -> Iterator[Report]:
    """A Rich progress display with one bar per section (bytes for files)."""
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[Section, TaskID] = {}
        totals = data.totals()

        def report(section: Section, advance: int) -> None:
            if section not in tasks:
                label = "file bytes" if section is Section.FILES else section.value
                tasks[section] = bars.add_task(label, total=totals.get(section))
            bars.advance(tasks[section], advance)

        yield report


def seed(
    size: Annotated[Size, typer.Option(help="How much content: small, medium or large")] = Size.SMALL,
    url: Annotated[
        str | None, typer.Option("--url", envvar="ENVCLONE_URL", help="Server to seed through its API")
    ] = None,
    user: User = "admin",
    password: Password = "",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Seed this data directory directly instead of a server")
    ] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same content")] = 1,
) -> None:
    """Fill an environment with deterministic demo or benchmark content."""
    data = SeedData(size, seed_value)
    try:
        if data_dir is not None:
            # Imported here: other commands start without loading the server.
            from envclone.server import build_context
            from envclone.services.seeding import seed_direct

            ctx, admin = build_context(load_settings(data_dir=data_dir))
            if admin is not None and admin.generated_password:
                console.print(f"first administrator [bold]{admin.login}[/], password {admin.generated_password}")
            try:
                with _progress(data) as report:
                    created = seed_direct(ctx, size, seed=seed_value, progress=report)
            finally:
                ctx.db.dispose()
        elif url:
            with PeerClient(url, user, password) as client, _progress(data) as report:
                created = seed_api(client, data, report)
        else:
            errors.print("[red]error:[/] give --url (a running server) or --data-dir (seed directly)")
            raise typer.Exit(2)
    except PeerError as exc:
        errors.print(f"[red]error:[/] seeding failed: {escape(str(exc))}")
        raise typer.Exit(1) from None
    except EnvcloneError as exc:
        errors.print(f"[red]error:[/] seeding failed: {escape(exc.message)}")
        raise typer.Exit(exc.exit_code) from None
    table = Table("section", "created", title=f"seeded size {data.size.value} (seed {seed_value})")
    for name, count in created.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("seed")(seed)
