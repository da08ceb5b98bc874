"""Markers by which writers and the garbage collector see each other (rules in ``gc.py``). Small
JSON blobs holding their own start time, so no store needs to report blob ages for them."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator

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


def open_read_session(store: BlobStore) -> str:
    """A reader's marker: gc sweeps nothing while it exists, so chunks of an archive that
    retention prunes meanwhile stay until the read ends (a stream to a client, a restore)."""
    key = f"{SESSION_PREFIX}read-{uuid.uuid4().hex}"
    put_marker(store, key)
    return key


def close_read_session(store: BlobStore, key: str) -> None:
    with contextlib.suppress(NotFound):
        store.delete(key)


@contextlib.contextmanager
def read_session(store: BlobStore) -> Iterator[None]:
    key = open_read_session(store)
    try:
        yield
    finally:
        close_read_session(store, key)
