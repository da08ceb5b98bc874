"""Verify: read every chunk of an archived backup, check every hash, keep the result."""

from envclone.operations.verify.run import ArchiveDamaged, run_verify

__all__ = ["ArchiveDamaged", "run_verify"]
