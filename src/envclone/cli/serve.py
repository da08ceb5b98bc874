"""``envclone serve``: start one environment on the embedded defaults (SQLite and a local blob
directory under --data-dir), optionally seeded with demo content. With ``--workers 0`` (scale-out,
PostgreSQL) the process only serves the APIs and enqueues operations for ``envclone worker``."""

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


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: 8080)")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the database and blobs live")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed realistic demo content on first start")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Operations this process runs at once (default 4); 0: none, it only enqueues them for "
            "`envclone worker` processes (needs PostgreSQL)",
        ),
    ] = None,
) -> None:
    """Run the envclone server for one environment."""
    # Imported here, not at the top: every other command starts without loading the server.
    import uvicorn

    from envclone.server import build_context, create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(host=host, port=port, data_dir=data_dir, workers=workers)
        ctx, admin = build_context(settings)
        if demo:
            from envclone.services.seeding import seed_demo

            seeded = seed_demo(ctx)
            if seeded:
                console.print(f"[green]Demo content seeded:[/] {seeded}")
    except EnvcloneError as exc:
        console.print(f"[red]error:[/] {escape(exc.message)}")
        raise typer.Exit(exc.exit_code) from None
    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]envclone[/] environment [cyan]{settings.environment_name}[/] "
        f"({settings.service_type.value} {settings.version}) at [link={url}]{url}[/]"
    )
    console.print(f"  data: {settings.data_dir}   database: {settings.database_url.split('://')[0]}")
    if settings.workers == 0:
        console.print("  operations: enqueued for `envclone worker` processes (this process runs none)")
    if admin is not None and admin.generated_password:
        console.print(
            f"  log in as [bold]{admin.login}[/] with the generated password "
            f"[bold yellow]{admin.generated_password}[/] (shown once)"
        )
    elif admin is not None:
        console.print(f"  log in as [bold]{admin.login}[/] with the password in ENVCLONE_ADMIN_PASSWORD")
    else:
        console.print(f"  log in as an existing user, e.g. {settings.admin_user}")
    console.print(f"  try: curl -u {settings.admin_user}:PASSWORD {url}/v1/environment/digest   API docs: {url}/docs")
    uvicorn.run(
        create_app(ctx), host=settings.host, port=settings.port, log_level=log_level.lower(), server_header=False
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
