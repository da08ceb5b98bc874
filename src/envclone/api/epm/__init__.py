"""The Oracle EPM Cloud Migration REST dialect under /interop/rest: restore and clone environment,
backups, snapshots and daily maintenance, in Oracle's paths and shapes."""

from envclone.api.epm.errors import render_error
from envclone.api.epm.routes import PREFIX, build_router

__all__ = ["PREFIX", "build_router", "render_error"]
