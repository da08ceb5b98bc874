"""Restore Backup: copy an archived backup into the environment as a stored snapshot file."""

from envclone.operations.copy.run import name_taken, run_copy_backup

__all__ = ["name_taken", "run_copy_backup"]
