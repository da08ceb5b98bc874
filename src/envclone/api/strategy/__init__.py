"""The Strategy (MicroStrategy) Library REST dialect under /MicroStrategyLibrary/api: login and
sessions, server status and projects so far, in Strategy's paths and shapes."""

from envclone.api.strategy.errors import render_error
from envclone.api.strategy.routes import PREFIX, build_router

__all__ = ["PREFIX", "build_router", "render_error"]
