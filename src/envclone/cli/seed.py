"""``envclone seed``: fill an environment with realistic, deterministic content of a given size,
through a running server's native API (batch endpoints, streamed file uploads) or directly into a
data directory. Adds only what is missing: seeding again changes nothing, and a larger size over a
smaller one adds the difference (sizes nest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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
from envclone.demodata.files import SeedFile
from envclone.demodata.sections import RECORD_SECTIONS, Section
from envclone.demodata.seeddata import SeedData
from envclone.demodata.sizes import Size
from envclone.demodata.target import Report, fill
from envclone.domain.files import FileArea
from envclone.errors import EnvcloneError
from envclone.peer import PeerClient, PeerError
from envclone.settings import load_settings

console = Console()
errors = Console(stderr=True)

# Items per request: well under the server's 16 MiB body and 50,000-item limits.
API_CHUNK = 2_000
PAGE = 1_000  # the native API's largest page
AREAS = (FileArea.INBOX.value, FileArea.OUTBOX.value)
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


class ApiTarget:
    """A ``SeedTarget`` over a server's native API: list endpoints say what exists, batch endpoints
    (one by one for roles and projects) add the rest."""

    batch_size = API_CHUNK

    def __init__(self, client: PeerClient) -> None:
        self._client = client

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._client.get(path, limit=PAGE, offset=offset)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= int(page["total"]):
                return

    def existing(self, section: Section, scope: dict[str, str]) -> Iterator[dict[str, Any]]:
        path = (SINGLE_PATHS.get(section) or BATCH_PATHS[section].removesuffix("/batch")).format(**_quoted(scope))
        return self._pages(path)

    def create(self, section: Section, scope: dict[str, str], items: list[dict[str, Any]]) -> int:
        if section in SINGLE_PATHS:
            for item in items:
                self._client.post(SINGLE_PATHS[section], item)
            return len(items)
        path = BATCH_PATHS[section].format(**_quoted(scope))
        return int(self._client.post(path, {"items": [_json(item) for item in items]})["created"])

    def record_count(self, section: Section) -> int:
        return int(self._client.get(BATCH_PATHS[section], limit=1)["total"])

    def append(self, section: Section, items: list[dict[str, Any]]) -> int:
        return int(self._client.post(BATCH_PATHS[section], {"items": [_json(item) for item in items]})["created"])

    def file_sizes(self) -> dict[tuple[str, str], int]:
        return {(area, f["name"]): int(f["size"]) for area in AREAS for f in self._pages(f"/v1/files/{area}")}

    def upload(self, seed_file: SeedFile, chunks: Iterator[bytes]) -> int:
        name, modified = quote(seed_file.name, safe=""), seed_file.modified.isoformat()
        return int(self._client.upload(f"/v1/files/{seed_file.area}/{name}?modified={modified}", chunks)["size"])

    def settings(self) -> dict[str, Any]:
        result: dict[str, Any] = self._client.get("/v1/settings")
        return result

    def update_settings(self, changes: dict[str, Any]) -> None:
        self._client.request("PATCH", "/v1/settings", json=changes)


def _quoted(scope: dict[str, str]) -> dict[str, str]:
    return {name: quote(value, safe="") for name, value in scope.items()}


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
                created = fill(data, ApiTarget(client), report)
        else:
            errors.print("[red]error:[/] give --url (a running server) or --data-dir (seed directly)")
            raise typer.Exit(2)
    except PeerError as exc:
        errors.print(f"[red]error:[/] seeding failed: {escape(str(exc))}")
        raise typer.Exit(1) from None
    except EnvcloneError as exc:
        errors.print(f"[red]error:[/] seeding failed: {escape(exc.message)}")
        raise typer.Exit(exc.exit_code) from None
    if not any(created.values()):
        console.print(
            f"nothing to add: the environment already holds all of size {data.size.value} (seed {seed_value}), "
            "or a larger size"
        )
        return
    table = Table("section", "added", title=f"seeded size {data.size.value} (seed {seed_value})")
    for name, count in created.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("seed")(seed)
