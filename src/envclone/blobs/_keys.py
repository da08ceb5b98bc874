"""The one rule for blob keys, shared by every BlobStore so that a key valid on one medium is valid
on all (a repository moves between a folder and an object store unchanged). Validates only."""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def check_key(key: str) -> str:
    """``key`` itself if it is ``/``-separated segments of ``[A-Za-z0-9._-]``, none empty, ``.`` or
    ``..``; otherwise ``ValueError``."""
    parts = key.split("/")
    if not key or any(not _SEGMENT.match(p) or p in {".", ".."} for p in parts):
        raise ValueError(f"invalid blob key {key!r}")
    return key
