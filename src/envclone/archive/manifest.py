"""The manifest of one archive: components, their entries as ordered chunk lists, counts, source
metadata, the algorithms used, and a hash over all of it. (De)serialization only; no storage."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True)
class ChunkRef:
    id: str
    size: int


@dataclass(frozen=True)
class Entry:
    name: str
    kind: EntryKind
    chunks: tuple[ChunkRef, ...]

    @property
    def size(self) -> int:
        return sum(c.size for c in self.chunks)


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
                            "chunks": [[c.id, c.size] for c in e.chunks],
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
        body = self._body()
        body["hash"] = hasher(self.algorithms.hash).digest(_canonical(body))
        return _canonical(body)

    def to_blob(self) -> bytes:
        return zstandard.ZstdCompressor(level=3).compress(self.to_json())

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
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
        if hasher(algorithms.hash).digest(_canonical(body)) != claimed:
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
                            Entry(e["name"], EntryKind(e["kind"]), tuple(ChunkRef(cid, n) for cid, n in e["chunks"]))
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


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
