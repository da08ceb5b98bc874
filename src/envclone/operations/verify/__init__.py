"""Verify: read every chunk of an archived backup, check every hash, keep the result."""

from envclone.operations.verify.run import KIND, STEPS, ArchiveDamaged, run_verify

__all__ = ["KIND", "STEPS", "ArchiveDamaged", "run_verify"]
