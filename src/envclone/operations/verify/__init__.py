"""Verify: read every chunk of an archived backup, check every hash, keep the result; or read every
stored file content of the live store and check it against its hash."""

from envclone.operations.verify.run import ArchiveDamaged, run_verify
from envclone.operations.verify.store import StoreDamaged, run_verify_store

__all__ = ["ArchiveDamaged", "StoreDamaged", "run_verify", "run_verify_store"]
