"""Restore Environment: replace this environment's content with an Environment Backup's."""

from envclone.operations.restore.run import KIND, STEPS, RestoreRequest, run_restore

__all__ = ["KIND", "STEPS", "RestoreRequest", "run_restore"]
