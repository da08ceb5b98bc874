"""The ``envclone`` command: registers each command module on one Typer app."""

from __future__ import annotations

import typer

from envclone.cli import clone, demo, diff, epm_automate, jobs, seed, serve, worker
from envclone.cli._options import Group, use_plain_flags

app = typer.Typer(
    name="envclone",
    help="Keep application environments safe and movable: serve, seed, compare.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Group,
)
serve.register(app)
diff.register(app)
seed.register(app)
epm_automate.register(app)
clone.register(app)
jobs.register(app)
demo.register(app)
worker.register(app)
use_plain_flags(app)

if __name__ == "__main__":
    app()
