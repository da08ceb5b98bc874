"""Pack files: many stored chunks in one blob ``packs/<id>``, with a table at the end naming each,
so that a lost or damaged index can always be rebuilt from the packs alone. Builds and parses
bytes only: which chunks are live, and where packs are kept, is the pack store's business.

Layout: ``MAGIC``, the chunks' stored forms back to back, then one table row per chunk (raw id,
offset, length), then a footer (creation time, row count, BLAKE3 of the table, ``END``). A pack
is named by the BLAKE3 of all its bytes, as a chunk is, so a whole pack can be checked by name."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import blake3

from envclone.archive.errors import ArchiveError
from envclone.blobs import BlobStore, BlobWriter
from envclone.blobs.store import read_range

PACK_PREFIX = "packs/"
# Written before a store's first pack: a store holding packs must never be read as one blob per
# chunk (layout.py reads it).
LAYOUT_KEY = "config/chunk-layout"
LAYOUT_PACKS = b"packs\n"
MAGIC = b"ECPACK1\n"
END = b"ECPKEND\n"
_ROW = struct.Struct(">32sII")  # raw chunk id, offset from the pack's start, length
_FOOTER = struct.Struct(">QI32s8s")  # created (ns since the epoch), rows, BLAKE3 of the rows, END


class PackDamaged(ArchiveError, code="pack_damaged"):
    """A pack file of the chunk store is damaged."""


@dataclass(frozen=True, slots=True)
class PackTable:
    created_ns: int
    rows: list[tuple[bytes, int, int]]  # (raw id, offset, length)
    body: int  # bytes of chunks the pack holds, duplicates included


def pack_key(pack_id: str) -> str:
    return PACK_PREFIX + pack_id


def pack_id_of(key: str) -> str | None:
    pack_id = key.removeprefix(PACK_PREFIX)
    if key.startswith(PACK_PREFIX) and len(pack_id) == 64 and all(c in "0123456789abcdef" for c in pack_id):
        return pack_id
    return None


class PackBuilder:
    """A pack being written: its bytes go to a BlobWriter (a temporary file, or a staged upload)
    as chunks are added, as restic and kopia write packs, so that a pack never sits whole in
    memory; only its table is kept until ``finish``. Nothing is visible under any key before the
    pack store commits the writer, so no index can name a pack that is not complete. Not
    thread-safe: the pack store reserves places under its lock and writes them in that order."""

    def __init__(self, open_writer: Callable[[], BlobWriter]) -> None:
        self.size = len(MAGIC)
        self.count = 0
        self._table = bytearray()  # the rows as the pack's table holds them: 40 bytes a chunk
        self.writer: BlobWriter | None = None
        self._open_writer = open_writer
        self._hash = blake3.blake3()
        self._written = 0  # bytes handed to the writer (MAGIC included)

    @property
    def body(self) -> int:
        return self.size - len(MAGIC)

    def add(self, raw_id: bytes, length: int) -> int:
        """Reserve the place of a stored chunk of ``length`` bytes; returns its offset in the pack.
        Its bytes must be given to ``write`` next (places are written in the order reserved)."""
        offset = self.size
        self.size += length
        self._table += _ROW.pack(raw_id, offset, length)
        self.count += 1
        return offset

    @property
    def rows(self) -> Iterator[tuple[bytes, int, int]]:
        """(raw id, offset, length) of each chunk added, in order."""
        return iter(_ROW.iter_unpack(self._table))

    def write(self, blob: bytes) -> None:
        """Write the chunk whose place was reserved last (the writer is opened at the first)."""
        if self.writer is None:
            self.writer = self._open_writer()
            self._write(MAGIC)
        self._write(blob)

    def _write(self, data: bytes) -> None:
        self.writer.write(data)  # type: ignore[union-attr]  # opened by ``write``
        self._hash.update(data)
        self._written += len(data)

    def finish(self, created_ns: int) -> str:
        """Write the table and footer; returns the pack's id. The caller commits the writer under
        ``pack_key`` of it. Raises if a reserved chunk was never written (a write that failed)."""
        if self.writer is None or self._written != self.size:
            raise ArchiveError("pack incomplete: a chunk of it was never written")
        table = self._table
        self._write(bytes(table) + _FOOTER.pack(created_ns, self.count, blake3.blake3(table).digest(), END))
        return self._hash.hexdigest()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def parse_table(tail: bytes, size: int) -> PackTable:
    """The table of a pack of ``size`` bytes from its last bytes (at least the footer; the table too
    if ``tail`` is long enough, else ``PackDamaged`` says how many bytes are needed)."""
    if size < len(MAGIC) + _FOOTER.size or len(tail) < _FOOTER.size:
        raise PackDamaged("pack too short for its footer")
    created_ns, count, digest, end = _FOOTER.unpack(tail[-_FOOTER.size :])
    if end != END:
        raise PackDamaged("pack footer is damaged")
    need = count * _ROW.size + _FOOTER.size
    if need > size - len(MAGIC):
        raise PackDamaged("pack table is larger than the pack")
    if len(tail) < need:
        raise _NeedMore(need)
    table = bytes(tail[len(tail) - need : len(tail) - _FOOTER.size])
    if blake3.blake3(table).digest() != digest:
        raise PackDamaged("pack table does not match its hash")
    body_end = size - need
    rows = [row for row in _ROW.iter_unpack(table)]
    for _raw, offset, length in rows:
        if offset < len(MAGIC) or offset + length > body_end:
            raise PackDamaged("pack table points outside the pack")
    return PackTable(created_ns, rows, sum(length for _, _, length in rows))


class _NeedMore(PackDamaged):
    def __init__(self, need: int) -> None:
        super().__init__("pack table not read whole")
        self.need = need


def read_table(blobs: BlobStore, key: str) -> PackTable:
    """Read a stored pack's table (two ranged reads: the footer, then the rows). Raises
    ``PackDamaged``, or ``NotFound`` if the pack is gone."""
    size = blobs.size(key)
    footer = read_range(blobs, key, max(size - _FOOTER.size, 0), _FOOTER.size)
    try:
        return parse_table(footer, size)
    except _NeedMore as more:
        tail = read_range(blobs, key, size - more.need, more.need)
        return parse_table(tail, size)
