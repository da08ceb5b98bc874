"""Options that several commands share: the server URL and credentials, from flags or from
ENVCLONE_URL / ENVCLONE_USER / ENVCLONE_PASSWORD."""

from __future__ import annotations

from typing import Annotated

import typer

Url = Annotated[str, typer.Option("--url", envvar="ENVCLONE_URL", help="Server URL, e.g. http://127.0.0.1:8080")]
User = Annotated[str, typer.Option("--user", "-u", envvar="ENVCLONE_USER", help="Login")]
Password = Annotated[
    str, typer.Option("--password", "-p", envvar="ENVCLONE_PASSWORD", help="Password (prefer the variable)")
]
