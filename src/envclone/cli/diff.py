"""``envclone diff URL_A URL_B``: compare two environments component by component by digest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from envclone.cli._options import Password, User
from envclone.peer import PeerClient, PeerError

console = Console()


def diff(
    url_a: Annotated[str, typer.Argument(help="First environment URL")],
    url_b: Annotated[str, typer.Argument(help="Second environment URL")],
    user: User = "admin",
    password: Password = "",
    user_b: Annotated[str | None, typer.Option(help="Login on the second environment, if different")] = None,
    password_b: Annotated[str | None, typer.Option(envvar="ENVCLONE_PASSWORD_B", help="Its password")] = None,
) -> None:
    """Print which components differ; exit 0 when identical, 1 when they differ."""
    try:
        with PeerClient(url_a, user, password) as a, PeerClient(url_b, user_b or user, password_b or password) as b:
            da, db = a.digest(), b.digest()
    except PeerError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    table = Table("component", "same", url_a, url_b)
    differing = []
    for name in sorted(set(da["components"]) | set(db["components"])):
        ha, hb = da["components"].get(name, "-"), db["components"].get(name, "-")
        same = ha == hb
        if not same:
            differing.append(name)
        table.add_row(name, "[green]yes[/]" if same else "[red]no[/]", ha[:16], hb[:16])
    console.print(table)
    if differing:
        console.print(f"[red]{len(differing)} component(s) differ:[/] {', '.join(differing)}")
        raise typer.Exit(1)
    console.print(f"[green]identical[/] (environment digest {da['environment'][:16]})")


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
