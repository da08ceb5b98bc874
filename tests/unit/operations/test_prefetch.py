"""Reading ahead for a backup is bounded by bytes as well as by count: what is held does not grow
with the entries' sizes beyond PREFETCH_BYTES (plus the one entry being handed over)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from envclone.content.export import Entry
from envclone.operations.archiving import PREFETCH_BYTES, SMALL_ENTRY, prefetched


def test_read_ahead_holds_at_most_prefetch_bytes() -> None:
    lock = threading.Lock()
    opened: set[str] = set()
    peak = [0]
    size = SMALL_ENTRY // 2

    def content(name: str) -> Iterator[bytes]:
        with lock:
            opened.add(name)
            peak[0] = max(peak[0], len(opened) * size)
        yield b"x" * size

    entries = [Entry(f"e{i}", (lambda n=f"e{i}": content(n)), size) for i in range(40)]
    seen = []
    for entry, data in prefetched(entries, {}):
        assert b"".join(data) == b"x" * size
        seen.append(entry.name)
        with lock:
            opened.discard(entry.name)
    assert seen == [e.name for e in entries]  # in order, every one
    assert size < peak[0] <= PREFETCH_BYTES + size
