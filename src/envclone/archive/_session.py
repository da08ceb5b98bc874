"""Markers by which writers and the garbage collector see each other (rules in ``gc.py``). Small
JSON blobs holding their own start time, so no store needs to report blob ages for them."""

from __future__ import annotations

import json
import time

from envclone.blobs import BlobStore
from envclone.errors import NotFound

SESSION_PREFIX = "sessions/"
GC_MARKER = "gc/active"


def put_marker(store: BlobStore, key: str) -> None:
    store.put(key, json.dumps({"started": time.time()}).encode())


def marker_age(store: BlobStore, key: str) -> float | None:
    """Seconds since the marker under ``key`` was put; None if there is none. An unreadable marker
    counts as brand new: being wrong that way only makes writers slower or gc wait."""
    try:
        raw = store.get(key)
    except NotFound:
        return None
    try:
        return max(0.0, time.time() - float(json.loads(raw)["started"]))
    except (ValueError, KeyError, TypeError):
        return 0.0


def session_key(archive_id: str) -> str:
    return SESSION_PREFIX + archive_id
