"""The Veeam Backup Enterprise Manager REST dialect under /api: logon sessions, repositories, jobs,
job clone and tasks, in Veeam's paths and its XML or JSON shapes."""

from envclone.api.veeam.errors import render_error
from envclone.api.veeam.routes import PREFIX, build_router

__all__ = ["PREFIX", "build_router", "render_error"]
