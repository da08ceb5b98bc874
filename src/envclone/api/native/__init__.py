"""envclone's own JSON API under /v1: one consistent model for content, environment and auth."""

from envclone.api.native.routes import build_router
from envclone.api.native.status_poll import StatusPollShortcut

__all__ = ["StatusPollShortcut", "build_router"]
