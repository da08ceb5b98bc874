"""The manifest of one archive: components, their entries as ordered chunk lists, counts, source
metadata, the algorithms used, and a hash over all of it. (De)serialization only; no storage."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from operator import itemgetter
from typing import Any, NamedTuple

import zstandard

from envclone.archive.compress import compression
from envclone.archive.errors import ManifestCorrupt, UnknownAlgorithm
from envclone.archive.ids import check_archive_id, hasher, is_chunk_id

FORMAT_VERSION = 1
# A manifest blob is small; refusing huge ones keeps a damaged or hostile blob from exhausting memory.
MAX_MANIFEST_BYTES = 1 << 30

Metadata = Mapping[str, str | int | float | bool | None]


class EntryKind(StrEnum):
    RECORDS = "records"
    FILE = "file"


class ChunkRef(NamedTuple):
    """A chunk of an entry. A named pair: manifests hold tens of thousands, built as they load."""

    id: str
    size: int


_size_of = itemgetter(1)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: EntryKind
    chunks: tuple[ChunkRef, ...]

    @property
    def size(self) -> int:
        return sum(map(_size_of, self.chunks))


@dataclass(frozen=True)
class ComponentEntries:
    name: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Algorithms:
    chunker: Mapping[str, int | str]
    hash: str
    compression: str


@dataclass(frozen=True)
class Manifest:
    archive_id: str
    created_at: datetime
    source: Metadata
    algorithms: Algorithms
    components: tuple[ComponentEntries, ...]
    format: int = FORMAT_VERSION
    _index: dict[tuple[str, str], Entry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for comp in self.components:
            for entry in comp.entries:
                self._index[(comp.name, entry.name)] = entry

    def entry(self, component: str, name: str) -> Entry:
        try:
            return self._index[(component, name)]
        except KeyError:
            raise KeyError(f"no entry {component}/{name} in archive {self.archive_id}") from None

    def entries(self) -> Iterator[tuple[str, Entry]]:
        for comp in self.components:
            for entry in comp.entries:
                yield comp.name, entry

    def counts(self) -> dict[str, int]:
        refs = [c for _, e in self.entries() for c in e.chunks]
        return {
            "components": len(self.components),
            "entries": len(self._index),
            "chunks": len(refs),
            "unique_chunks": len({c.id for c in refs}),
            "bytes": sum(c.size for c in refs),
        }

    def _body(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "archive_id": self.archive_id,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "source": dict(self.source),
            "algorithms": {
                "chunker": dict(self.algorithms.chunker),
                "hash": self.algorithms.hash,
                "compression": self.algorithms.compression,
            },
            "counts": self.counts(),
            "components": [
                {
                    "name": comp.name,
                    "entries": [
                        {
                            "name": e.name,
                            "kind": str(e.kind),
                            "size": e.size,
                            "chunks": e.chunks,  # pairs: encoded as [id, size]
                        }
                        for e in comp.entries
                    ],
                }
                for comp in self.components
            ],
        }

    @property
    def digest(self) -> str:
        """The manifest's self-hash: over the canonical JSON of everything else in it."""
        return hasher(self.algorithms.hash).digest(_canonical(self._body()))

    def to_json(self) -> bytes:
        """The canonical JSON of the body with its hash among its members. Encoded once: members
        of a canonical object are its keys in order, so the body's JSON is cut where ``hash`` sorts
        and the hash member put there, which is what encoding the body with it would give."""
        body = self._body()
        head = _canonical({k: v for k, v in body.items() if k < _HASH_KEY})
        tail = _canonical({k: v for k, v in body.items() if k > _HASH_KEY})
        claimed = hasher(self.algorithms.hash).digest(_members(head, tail))
        return _members(head, b'{"hash":' + _canonical_value(claimed) + b"}", tail)

    def to_blob(self) -> bytes:
        return zstandard.ZstdCompressor(level=3).compress(self.to_json())

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        # Tens of thousands of small objects, none cyclic: the collector's passes over the whole
        # heap they would set off (a fifth of loading a large manifest) find nothing to free.
        with _collector_paused():
            return cls._from_json(raw)

    @classmethod
    def _from_json(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
            claimed = body.pop("hash")
            algorithms = Algorithms(
                chunker=body["algorithms"]["chunker"],
                hash=body["algorithms"]["hash"],
                compression=body["algorithms"]["compression"],
            )
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:  # deep JSON: recursion
            raise ManifestCorrupt(f"manifest is not readable: {exc}") from None
        if body.get("format") != FORMAT_VERSION:
            raise UnknownAlgorithm(f"unsupported manifest format {body.get('format')!r}")
        compression(algorithms.compression)
        if not _hash_matches(raw, body, algorithms.hash, claimed):
            raise ManifestCorrupt(f"manifest of archive {body.get('archive_id')!r} does not match its hash")
        try:
            manifest = cls(
                archive_id=check_archive_id(body["archive_id"]),
                created_at=datetime.fromisoformat(body["created_at"]),
                source=body["source"],
                algorithms=algorithms,
                components=tuple(
                    ComponentEntries(
                        name=comp["name"],
                        entries=tuple(
                            Entry(e["name"], EntryKind(e["kind"]), tuple(map(_chunk_ref, e["chunks"])))
                            for e in comp["entries"]
                        ),
                    )
                    for comp in body["components"]
                ),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestCorrupt(f"manifest is not valid: {exc}") from None
        if manifest.counts() != body.get("counts"):
            raise ManifestCorrupt("manifest counts do not match its entries")
        if not all(is_chunk_id(c.id) for _, e in manifest.entries() for c in e.chunks):
            raise ManifestCorrupt("manifest names an invalid chunk id")
        return manifest

    @classmethod
    def from_blob(cls, blob: bytes) -> Manifest:
        try:
            raw = zstandard.ZstdDecompressor().decompress(blob, max_output_size=MAX_MANIFEST_BYTES)
        except zstandard.ZstdError as exc:
            raise ManifestCorrupt(f"manifest blob is damaged: {exc}") from None
        return cls.from_json(raw)


_HASH_KEY = "hash"


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunk_ref(pair: list[Any]) -> ChunkRef:
    cid, size = pair
    return ChunkRef(cid, size)


def _members(*objects: bytes) -> bytes:
    """Canonical objects' members, in the order given, as one object."""
    return b"{" + b",".join(inner for o in objects if (inner := o[1:-1])) + b"}"


def _hash_matches(raw: bytes, body: dict[str, Any], algorithm: str, claimed: object) -> bool:
    """Whether ``claimed`` is the hash of ``body`` (``raw`` parsed, without its hash member). A
    manifest as written is canonical JSON, so the bytes hashed are ``raw`` without that member: no
    second encoding. Anything else (another writer's spacing, say) is checked by encoding ``body``."""
    member = b',"hash":' + _canonical_value(claimed)
    at = raw.find(member)
    as_written = at >= 0 and raw.find(member, at + 1) < 0 and raw.startswith(b',"source":', at + len(member))
    if as_written and hasher(algorithm).digest(raw[:at] + raw[at + len(member) :]) == claimed:
        return True
    return bool(hasher(algorithm).digest(_canonical(body)) == claimed)


def _canonical_value(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
