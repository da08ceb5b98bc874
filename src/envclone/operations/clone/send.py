"""Sending an archive to a target once have/want (plan.py) has told what it lacks: only the missing
chunks, in batches of up to BATCH_BYTES per request, several requests at a time, then the manifest
(a target that predates batches gets one request per chunk). Every call is idempotent, so after a
dropped connection the same call (or a whole new clone) sends only what the target still lacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from envclone.archive import ChunkStore, Manifest, chunk_ids, chunks_of, manifest_key
from envclone.blobs.store import BlobStore
from envclone.domain.transfer import MAX_BATCH_CHUNKS
from envclone.errors import NotFound
from envclone.peer import PeerClient, PeerError

PARALLEL = 6
# Stored bytes per request: thousands of ~5 KiB chunks (records, small files) cost one request
# each before; a few MiB amortise a request's cost and keep what is in flight small.
BATCH_BYTES = 2 * 1024 * 1024


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
    batched = [True]  # until the target says it takes no batches

    def send(batch: list[str]) -> list[tuple[str, int]]:
        items = [(cid, sizes[cid], chunks.get(cid)) for cid in batch]
        if batched[0]:
            try:
                peer.put_chunks(items)
                return [(cid, len(blob)) for cid, _, blob in items]
            except PeerError as exc:
                if exc.status not in (404, 405):
                    raise
                batched[0] = False
        for cid, size, blob in items:
            peer.put_chunk(cid, size, blob)
        return [(cid, len(blob)) for cid, _, blob in items]

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="clone-send") as pool:
        window: list[Future[list[tuple[str, int]]]] = []
        for batch in _batches(chunks, missing):
            window.append(pool.submit(send, batch))
            if len(window) >= PARALLEL + 2:
                _settle(window.pop(0), stats, sizes, on_done)
                check()
        for item in window:
            _settle(item, stats, sizes, on_done)
    peer.put_manifest(_manifest_blob(blobs, manifest))
    return stats


def _manifest_blob(blobs: BlobStore, manifest: Manifest) -> bytes:
    """The manifest as stored here (the archive's own bytes: encoding tens of thousands of chunk
    refs again costs a second), or encoded when this store does not hold it."""
    try:
        return blobs.get(manifest_key(manifest.archive_id))
    except NotFound:
        return manifest.to_blob()


def _batches(chunks: ChunkStore, missing: list[str]) -> Iterator[list[str]]:
    """The missing ids in runs of about BATCH_BYTES of stored chunks (their stored sizes are known
    without reading them)."""
    batch: list[str] = []
    held = 0
    for cid in missing:
        batch.append(cid)
        held += chunks.size(cid)
        if held >= BATCH_BYTES or len(batch) >= MAX_BATCH_CHUNKS:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _settle(
    future: Future[list[tuple[str, int]]], stats: SendStats, sizes: dict[str, int], on_done: Callable[[int], None]
) -> None:
    for cid, sent in future.result():
        stats.bytes_sent += sent
        stats.chunks_sent += 1
        on_done(sizes[cid])
