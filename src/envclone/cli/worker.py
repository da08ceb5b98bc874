"""``envclone worker``: run operations, daily maintenance and job schedules for API processes
started with ``envclone serve --workers 0`` (scale-out on PostgreSQL, docs/scale-out.md). Same
settings as the server (ENVCLONE_* variables or ENVCLONE_CONFIG); it serves no HTTP."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from envclone.errors import EnvcloneError
from envclone.settings import load_settings

console = Console(stderr=True)


def worker(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where local files live (local job repositories, the key file)")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, help="Operations this worker runs at once (default 4)")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run operations taken from the task queue until stopped (SIGTERM lets running ones end)."""
    # Imported here, not at the top: every other command starts without loading the server.
    from envclone.server import run_worker

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(data_dir=data_dir, worker_concurrency=concurrency)
        console.print(
            f"[bold]envclone worker[/] for environment [cyan]{settings.environment_name}[/]: "
            f"{settings.worker_concurrency} operation(s) at once, "
            f"heartbeat every {settings.worker_heartbeat_seconds:g} s"
        )
        run_worker(settings)
    except EnvcloneError as exc:
        console.print(f"[red]error:[/] {escape(exc.message)}")
        raise typer.Exit(exc.exit_code) from None


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
