"""A stored snapshot as the archive a clone sends: shared with restore, so it lives beside the
operation packages (``operations.stored_snapshots``)."""

from envclone.operations.stored_snapshots import find_stored, stored_archive

__all__ = ["find_stored", "stored_archive"]
