"""The pack index: where each chunk lives (pack, offset, length), in memory as flat arrays (about
60 bytes a chunk, not a Python object per chunk: a store holds millions), and as index blobs
``index/<time>-<random>``, each self-hashed. Knows nothing of blob stores beyond those bytes.

An index blob is a delta (packs sealed and chunks deleted since the previous one) or full (the
whole state, written by gc's compaction, which then deletes the blobs it replaces). Loading applies
every blob in name order; a later blob wins over an earlier one. A deletion row (pack ``DELETED``)
carries in its offset and length fields the time it was decided (ns since the epoch, high and low
32 bits; 0 in blobs written before deletions were dated): it covers only copies in packs created
by then."""

from __future__ import annotations

import secrets
import struct
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import blake3

from envclone.archive.errors import ArchiveError

INDEX_PREFIX = "index/"
DELETED = -1  # pack number of a row whose chunk was deleted
_MAGIC = b"ECINDEX1"
_HEAD = struct.Struct(">8sBQI")  # magic, full?, created ns, pack count
_PACK = struct.Struct(">32sQQ")  # raw pack id, created ns, body bytes
_COUNT = struct.Struct(">I")
_ENTRY = struct.Struct(">32siII")  # raw chunk id, pack (index into this blob's packs, or DELETED), offset, length
_DIGEST = 32
_last_stamp = 0


class IndexDamaged(ArchiveError, code="index_damaged"):
    """An index blob of the chunk store is damaged."""


@dataclass(frozen=True, slots=True)
class PackInfo:
    pack_id: str
    created_ns: int
    body: int


class PackedEntries(Sequence[tuple[bytes, int, int, int]]):
    """Index entries as they are encoded (44 bytes each) rather than a Python tuple each (about
    190 bytes): a pack of small chunks names tens of thousands, a full index every chunk."""

    def __init__(self, data: bytes | memoryview = b"") -> None:
        self.data = bytearray(data)

    def append(self, raw: bytes, pack: int, offset: int, length: int) -> None:
        self.data += _ENTRY.pack(raw, pack, offset, length)

    def __len__(self) -> int:
        return len(self.data) // _ENTRY.size

    @overload
    def __getitem__(self, index: int) -> tuple[bytes, int, int, int]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[bytes, int, int, int]]: ...
    def __getitem__(self, index: int | slice) -> tuple[bytes, int, int, int] | list[tuple[bytes, int, int, int]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        raw, pack, offset, length = _ENTRY.unpack_from(self.data, index * _ENTRY.size)
        return raw, pack, offset, length

    def __iter__(self) -> Iterator[tuple[bytes, int, int, int]]:
        return iter(_ENTRY.iter_unpack(self.data))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list


@dataclass(frozen=True, slots=True)
class IndexBlob:
    full: bool
    packs: list[PackInfo]
    entries: Sequence[tuple[bytes, int, int, int]]  # (raw id, pack index or DELETED, offset, length)


def split_cutoff(cutoff_ns: int) -> tuple[int, int]:
    """A deletion's time as the (offset, length) fields of its row."""
    return (cutoff_ns >> 32) & 0xFFFFFFFF, cutoff_ns & 0xFFFFFFFF


def join_cutoff(high: int, low: int) -> int:
    return (high << 32) | low


def new_index_key() -> str:
    """A key that sorts after every index key this process made before (and, clocks allowing,
    every other process's)."""
    global _last_stamp
    _last_stamp = max(_last_stamp + 1, time.time_ns())
    return f"{INDEX_PREFIX}{_last_stamp:020d}-{secrets.token_hex(4)}"


def is_index_key(key: str) -> bool:
    name = key.removeprefix(INDEX_PREFIX)
    stamp, _, tail = name.partition("-")
    return key.startswith(INDEX_PREFIX) and len(stamp) == 20 and stamp.isdigit() and len(tail) == 8


def encode_index(blob: IndexBlob) -> bytes:
    out = bytearray(_HEAD.pack(_MAGIC, int(blob.full), time.time_ns(), len(blob.packs)))
    for p in blob.packs:
        out += _PACK.pack(bytes.fromhex(p.pack_id), p.created_ns, p.body)
    out += _COUNT.pack(len(blob.entries))
    if isinstance(blob.entries, PackedEntries):
        out += blob.entries.data
    else:
        for entry in blob.entries:
            out += _ENTRY.pack(*entry)
    out += blake3.blake3(out).digest()
    return bytes(out)


def decode_index(data: bytes) -> IndexBlob:
    view = memoryview(data)
    if len(view) < _HEAD.size + _COUNT.size + _DIGEST:
        raise IndexDamaged("index blob is too short")
    if blake3.blake3(view[:-_DIGEST]).digest() != view[-_DIGEST:]:
        raise IndexDamaged("index blob does not match its hash")
    magic, full, _created, npacks = _HEAD.unpack_from(view, 0)
    if magic != _MAGIC:
        raise IndexDamaged("not an index blob")
    at = _HEAD.size
    packs = [
        PackInfo(raw.hex(), created, body)
        for raw, created, body in _PACK.iter_unpack(view[at : at + npacks * _PACK.size])
    ]
    at += npacks * _PACK.size
    (count,) = _COUNT.unpack_from(view, at)
    at += _COUNT.size
    if at + count * _ENTRY.size + _DIGEST != len(view) or len(packs) != npacks:
        raise IndexDamaged("index blob has the wrong length")
    entries = PackedEntries(view[at : at + count * _ENTRY.size])
    if any(not (DELETED <= pack < npacks) for _, pack, _, _ in entries):
        raise IndexDamaged("index blob names a pack it does not list")
    return IndexBlob(bool(full), packs, entries)


class ChunkTable:
    """Chunk id -> (pack number, offset, length): rows in flat arrays, found through an open
    addressing hash table of row numbers keyed by the id's first bytes (ids are uniform hashes).
    A deleted chunk keeps its row (pack ``DELETED``) until the table is rebuilt at the next load.
    Not thread-safe: the pack store calls it under its lock."""

    def __init__(self) -> None:
        self._ids = bytearray()
        self._pack = array("i")
        self._offset = array("I")
        self._length = array("I")
        self._slots = array("i", [-1]) * 1024
        self._mask = 1023

    def __len__(self) -> int:
        return len(self._pack)

    def _find(self, raw: bytes) -> tuple[int, int]:
        """(row, slot): the row holding ``raw`` or -1, and the slot where it is or would go."""
        slot = int.from_bytes(raw[:8], "little") & self._mask
        ids, slots = self._ids, self._slots
        while (row := slots[slot]) != -1:
            if ids[row * 32 : row * 32 + 32] == raw:
                return row, slot
            slot = (slot + 1) & self._mask
        return -1, slot

    def get(self, raw: bytes) -> tuple[int, int, int] | None:
        """(pack, offset, length) of a stored chunk; None if absent or deleted."""
        row, _ = self._find(raw)
        if row < 0 or self._pack[row] == DELETED:
            return None
        return self._pack[row], self._offset[row], self._length[row]

    def set(self, raw: bytes, pack: int, offset: int, length: int) -> tuple[int, int] | None:
        """Place a chunk (``pack`` may be ``DELETED``); returns its previous (pack, length) if it
        was stored, so the caller can keep its per-pack counts."""
        row, slot = self._find(raw)
        if row < 0:
            if pack == DELETED:
                return None
            row = len(self._pack)
            self._ids += raw
            self._pack.append(pack)
            self._offset.append(offset)
            self._length.append(length)
            self._slots[slot] = row
            if 2 * len(self._pack) > self._mask:
                self._grow()
            return None
        before = (self._pack[row], self._length[row]) if self._pack[row] != DELETED else None
        self._pack[row], self._offset[row], self._length[row] = pack, offset, length
        return before

    def _grow(self) -> None:
        self._mask = 2 * self._mask + 1
        self._slots = array("i", [-1]) * (self._mask + 1)
        ids, slots, mask = self._ids, self._slots, self._mask
        for row in range(len(self._pack)):
            slot = int.from_bytes(ids[row * 32 : row * 32 + 8], "little") & mask
            while slots[slot] != -1:
                slot = (slot + 1) & mask
            slots[slot] = row

    def row(self, row: int) -> tuple[bytes, int, int, int]:
        """(raw id, pack, offset, length) of a row number below ``len(self)``."""
        return bytes(self._ids[row * 32 : row * 32 + 32]), self._pack[row], self._offset[row], self._length[row]

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[bytes, int, int, int]]:
        """Live rows numbered ``start`` to ``stop``."""
        for row in range(start, len(self._pack) if stop is None else min(stop, len(self._pack))):
            if self._pack[row] != DELETED:
                yield self.row(row)
