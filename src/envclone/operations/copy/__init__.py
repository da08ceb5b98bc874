"""Restore Backup: copy an archived backup into the environment as a stored snapshot file."""

from envclone.operations.copy.run import AREA, KIND, STEPS, CopyRequest, default_target, name_taken, run_copy_backup

__all__ = ["AREA", "KIND", "STEPS", "CopyRequest", "default_target", "name_taken", "run_copy_backup"]
