"""envclone's own JSON API under /v1: one consistent model for content, environment and auth."""

from envclone.api.native.routes import build_router

__all__ = ["build_router"]
