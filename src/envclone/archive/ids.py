"""Names in the archive format: chunk ids (content hashes, resolved by name through a registry),
archive ids, and the manifests' blob keys (a chunk's place is its ChunkStore's business). Pure
functions; no storage access."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import blake3

from envclone.archive.errors import ArchiveError, UnknownAlgorithm

MANIFEST_PREFIX = "manifests/"
DEFAULT_HASH = "blake3-256"

_CHUNK_ID = re.compile(r"^[0-9a-f]{64}$")
_ARCHIVE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Hasher:
    """A named content hash; ``digest`` returns the hex id of a byte string."""

    name: str
    digest: Callable[[bytes | memoryview], str]


def _blake3_256(data: bytes | memoryview) -> str:
    return str(blake3.blake3(data).hexdigest())


HASHES: dict[str, Hasher] = {h.name: h for h in (Hasher(DEFAULT_HASH, _blake3_256),)}


def hasher(name: str) -> Hasher:
    try:
        return HASHES[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown hash algorithm {name!r}") from None


def chunk_id(data: bytes | memoryview) -> str:
    return _blake3_256(data)


def is_chunk_id(value: str) -> bool:
    return bool(_CHUNK_ID.match(value))


def new_archive_id(now: datetime | None = None) -> str:
    """A fresh archive id that sorts by creation time."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(6)}"


def check_archive_id(archive_id: str) -> str:
    if not _ARCHIVE_ID.match(archive_id):
        raise ArchiveError(f"invalid archive id {archive_id!r}")
    return archive_id


def manifest_key(archive_id: str) -> str:
    return MANIFEST_PREFIX + check_archive_id(archive_id)
