"""Options that several commands share: the server URL and credentials, from flags or from
ENVCLONE_URL / ENVCLONE_USER / ENVCLONE_PASSWORD; and the help every command shows."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

Url = Annotated[str, typer.Option("--url", envvar="ENVCLONE_URL", help="Server URL, e.g. http://127.0.0.1:8080")]
User = Annotated[str, typer.Option("--user", "-u", envvar="ENVCLONE_USER", help="Login")]
Password = Annotated[
    str, typer.Option("--password", "-p", envvar="ENVCLONE_PASSWORD", help="Password (prefer the variable)")
]


def _untyped_flags(params: list[Any]) -> list[Any]:
    # Typer's Rich help prints ``<bool>`` beside ``--help``, ``--force`` or ``--dry-run``, which is
    # nothing a user can type after them; click's plain help shows no type for a flag either.
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help shows no type for a flag."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(super().get_params(ctx))


class Group(TyperGroup):
    """The ``envclone`` command itself, whose help shows no type for a flag either."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(super().get_params(ctx))


def use_plain_flags(app: typer.Typer) -> None:
    """Every command registered on ``app`` so far shows its help as ``Command`` does."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = Command
