"""Restore Environment: replace this environment's content with an Environment Backup's. The kind,
steps and request are domain.restore's."""

from envclone.operations.restore.run import run_restore

__all__ = ["run_restore"]
