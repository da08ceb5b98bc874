"""Sending an archive to a target once have/want (plan.py) has told what it lacks: only the missing
chunks, several at a time, then the manifest. Every call is idempotent, so after a dropped
connection the same call (or a whole new clone) sends only what the target still lacks."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from envclone.archive import Manifest, chunk_ids, chunks_of
from envclone.blobs.store import BlobStore
from envclone.peer import PeerClient

PARALLEL = 6


@dataclass
class SendStats:
    chunks: int = 0
    chunks_sent: int = 0
    bytes_total: int = 0  # logical bytes of the archive
    bytes_sent: int = 0  # stored (compressed) bytes that crossed the wire


def send_archive(
    blobs: BlobStore,
    peer: PeerClient,
    manifest: Manifest,
    missing: list[str],
    on_done: Callable[[int], None],
    check: Callable[[], None],
) -> SendStats:
    """``missing``: the chunks the target lacks; ``on_done(n)`` counts logical bytes done, the
    target's own included; ``check`` may raise to stop (cancel)."""
    sizes = {ref.id: ref.size for _, entry in manifest.entries() for ref in entry.chunks}
    ids = chunk_ids(manifest)
    stats = SendStats(chunks=len(ids), bytes_total=sum(sizes.values()))
    absent = set(missing)
    on_done(sum(size for cid, size in sizes.items() if cid not in absent))

    chunks = chunks_of(blobs)

    def send(cid: str) -> int:
        blob = chunks.get(cid)
        peer.put_chunk(cid, sizes[cid], blob)
        return len(blob)

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="clone-send") as pool:
        window: list[tuple[str, Future[int]]] = []
        for cid in missing:
            window.append((cid, pool.submit(send, cid)))
            if len(window) >= 2 * PARALLEL:
                _settle(window.pop(0), stats, sizes, on_done)
                check()
        for item in window:
            _settle(item, stats, sizes, on_done)
    peer.put_manifest(manifest.to_blob())
    return stats


def _settle(
    item: tuple[str, Future[int]], stats: SendStats, sizes: dict[str, int], on_done: Callable[[int], None]
) -> None:
    cid, future = item
    stats.bytes_sent += future.result()
    stats.chunks_sent += 1
    on_done(sizes[cid])
