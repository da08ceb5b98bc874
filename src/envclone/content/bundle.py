"""Small blobs travel together: a bundle is one entry that is the concatenation of frames
(32-byte BLAKE3 hash, 8-byte length, content), sorted by hash, so fifty thousand small files make
a few thousand entries and chunks, not fifty thousand.

The small blobs are cut into groups (one bundle each) at content-defined boundaries: in hash order,
a group ends after a member whose hash falls under a threshold proportional to its size, so a group
holds about ``GROUP_BYTES`` of frames, and a blob of ``GROUP_BYTES`` or more stands alone. Where a
group ends depends on its own members only, so a changed file renames at most the group it left,
the group it joined and the neighbour either merges with or splits from (see ``groups``); every
other group keeps its name. A bundle's entry is named after its members
(``blobs.bundle/<fingerprint>``), so a backup takes each unchanged group from the previous archive
by name, without reading a file: after a 1 % change it reads and stores a few percent of the small
files, where one bundle of all of them (archives before groups) was read and rewritten whole.
Earlier names (``blobs.bundle``, ``blobs.bundle/<fingerprint>``, ``blobs.bundle/<hex prefix>/<fingerprint>``)
hold the same frames and are still read."""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from blake3 import blake3

from envclone.blobs.store import BlobStore

BUNDLE = "blobs.bundle"
SMALL_BLOB = 1024 * 1024
# Mean bytes of frames per group: small enough that a group re-read for one changed file costs
# little, large enough that entries and chunks stay few thousand at 50,000 files (bench scale 1).
GROUP_BYTES = 16 * 1024
# Counted for every member, so a group of empty or tiny files still ends after ~64 members.
_MEMBER_FLOOR = 256
_FRAME = struct.Struct(">32sQ")
_READ_AHEAD = 64
_SPAN = 1 << 64


def is_bundle(name: str) -> bool:
    return name == BUNDLE or name.startswith(BUNDLE + "/")


def ends_group(content_hash: str, size: int) -> bool:
    """Whether a group ends after this member: with probability (frame + floor) / GROUP_BYTES,
    decided by the member's own hash, so it does not depend on neighbours. The hash's last digits
    decide: members are sorted by its first ones, which would make every early member end one."""
    weight = _weight(size)
    return weight >= GROUP_BYTES or int(content_hash[-16:], 16) * GROUP_BYTES < weight * _SPAN


def _weight(size: int) -> int:
    return _FRAME.size + size + _MEMBER_FLOOR


def groups(items: Iterable[tuple[str, int]]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(entry name, members) per group of the (hash, size) items, in hash order; the input's order
    and repeats do not matter. A member of ``GROUP_BYTES`` or more is a group of its own. A name
    changes exactly when its group's members do."""
    return list(stream_groups(sorted(set(items))))


def stream_groups(ordered: Iterable[tuple[str, int]]) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """``groups`` of items already in ascending hash order, each repeated at most once in a row,
    one group at a time: what is held is one group, however many files there are. Raises
    ValueError on items out of order (the groups would not be the same as sorted ones)."""
    current: list[tuple[str, int]] = []
    last = ""
    for content_hash, size in ordered:
        if content_hash <= last:
            if content_hash == last:
                continue
            raise ValueError("blob hashes are not in ascending order")
        last = content_hash
        if current and _weight(size) >= GROUP_BYTES:
            yield _named(current)
            current = []
        current.append((content_hash, size))
        if ends_group(content_hash, size):
            yield _named(current)
            current = []
    if current:
        yield _named(current)


def _named(members: list[tuple[str, int]]) -> tuple[str, list[tuple[str, int]]]:
    fingerprint = blake3(b"".join(f"{h}:{s};".encode() for h, s in members)).hexdigest()[:32]
    return f"{BUNDLE}/{fingerprint}", members


def frame_size(sizes: Iterable[int]) -> int:
    return sum(_FRAME.size + size for size in sizes)


def write_bundle(blobs: BlobStore, items: list[tuple[str, int]]) -> Iterator[bytes]:
    """Frames for ``items`` (hash, size) in hash order. Blobs are read a few at a time ahead on
    threads: opening many small files one after another is slow; holding all of them is not lean."""
    ordered = sorted(items)
    if len(ordered) <= _READ_AHEAD // 4:
        # A bucket: the archiver already reads several of them at once; a pool each costs more.
        for content_hash, _size in ordered:
            data = blobs.get(f"files/{content_hash}")
            yield _FRAME.pack(bytes.fromhex(content_hash), len(data))
            yield data  # apart: the reader joins the pieces anyway, a concatenation here copied each file twice
        return
    with ThreadPoolExecutor(4, thread_name_prefix="bundle-read") as pool:
        pending: deque[tuple[str, Future[bytes]]] = deque()
        for content_hash, _size in ordered:
            pending.append((content_hash, pool.submit(blobs.get, f"files/{content_hash}")))
            if len(pending) >= _READ_AHEAD:
                yield from _frame(*pending.popleft())
        while pending:
            yield from _frame(*pending.popleft())


def _frame(content_hash: str, future: Future[bytes]) -> tuple[bytes, bytes]:
    data = future.result()
    return _FRAME.pack(bytes.fromhex(content_hash), len(data)), data


def read_bundle(chunks: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """(hash, content) per frame; raises ValueError on a truncated bundle."""
    buffer = bytearray()
    for chunk in chunks:
        buffer.extend(chunk)
        while len(buffer) >= _FRAME.size:
            raw_hash, size = _FRAME.unpack_from(buffer)
            end = _FRAME.size + size
            if len(buffer) < end:
                break
            yield raw_hash.hex(), bytes(buffer[_FRAME.size : end])
            del buffer[:end]
    if buffer:
        raise ValueError("the blob bundle is truncated")


def unpack_bundle(
    blobs: BlobStore,
    chunks: Iterable[bytes],
    on_bytes: Callable[[int], None] | None = None,
    *,
    repair: bool = False,
) -> int:
    """Put the bundle's blobs the store lacks (and, with ``repair``, those whose stored bytes
    differ: a damaged store), not yet durable: the caller syncs the store once after all bundles
    (one sync per bundle would cost thousands). Returns how many."""
    written = 0
    for content_hash, data in read_bundle(chunks):
        key = f"files/{content_hash}"
        if not blobs.exists(key) or (repair and blobs.get(key) != data):
            blobs.put(key, data, sync=False)
            written += 1
        if on_bytes:
            on_bytes(len(data))
    return written
