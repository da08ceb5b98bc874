"""How long ago a blob was written, for gc's grace rule. A store that cannot tell answers None, and
gc never deletes what it cannot date; nothing here deletes or writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from envclone.blobs import BlobStore
from envclone.errors import NotFound


@runtime_checkable
class TimedBlobStore(Protocol):
    def mtime(self, key: str) -> float:
        """Seconds since the epoch when the blob under ``key`` was last written."""


@runtime_checkable
class _PathBlobStore(Protocol):
    def path(self, key: str) -> Path: ...


def blob_age(store: BlobStore, key: str, now: float) -> float | None:
    """Seconds since the blob was written; None if the store cannot tell or the blob is gone."""
    try:
        if isinstance(store, TimedBlobStore):
            return now - store.mtime(key)
        if isinstance(store, _PathBlobStore):
            return now - os.stat(store.path(key)).st_mtime
    except (FileNotFoundError, NotFound):
        return None
    return None
