"""One archive as one self-contained, streamable file (a ``.projdup`` package or exported backup):
header, manifest, then chunk frames. Import verifies every chunk and the manifest's hash."""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from envclone.archive._session import GC_MARKER, marker_age, put_marker, read_session, session_key
from envclone.archive.chunk_store import chunks_of
from envclone.archive.errors import ChunkMissing, PackageCorrupt
from envclone.archive.ids import manifest_key
from envclone.archive.manifest import ChunkRef, Manifest
from envclone.archive.reader import fetch_blob, load_manifest, verify_chunk
from envclone.archive.writer import DEFAULT_GRACE_SECONDS, default_workers
from envclone.blobs import BlobStore

# Layout: MAGIC, u16 version, u16 flags (0); u32 manifest length, manifest blob (zstd JSON);
# frames of 32-byte raw chunk id, u32 length, stored chunk blob; an end frame of zero id and length.
MAGIC = b"ECARCH\r\n"
VERSION = 1
_HEADER = struct.Struct(">8sHH")
_MANIFEST_LEN = struct.Struct(">I")
_FRAME = struct.Struct(">32sI")
_END_ID = bytes(32)
MAX_MANIFEST_BLOB = 256 * 1024 * 1024
# A stored chunk is at most pyfastcdc's largest chunk (16 MiB) plus codec overhead.
MAX_FRAME = 17 * 1024 * 1024


@dataclass(frozen=True)
class PackageStats:
    chunks: int
    chunk_bytes: int


def _owners(manifest: Manifest) -> dict[str, tuple[ChunkRef, str]]:
    owners: dict[str, tuple[ChunkRef, str]] = {}
    for comp, entry in manifest.entries():
        for ref in entry.chunks:
            owners.setdefault(ref.id, (ref, f"{comp}/{entry.name}"))
    return owners


def _bounded_map(pool: ThreadPoolExecutor, depth: int, jobs: Iterable[Callable[[], bytes]]) -> Iterable[bytes]:
    """Run jobs on the pool, at most ``depth`` at a time, yielding results in order."""
    pending: deque[Future[bytes]] = deque()
    try:
        for job in jobs:
            pending.append(pool.submit(job))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def package_size(store: BlobStore, manifest: Manifest, *, exclude: Iterable[str] = ()) -> int:
    """The exact size of the file ``export_archive`` writes (for progress), without writing it."""
    skip = set(exclude)
    ids = {ref.id for _, entry in manifest.entries() for ref in entry.chunks} - skip
    chunks = chunks_of(store)
    frames = sum(_FRAME.size + chunks.size(cid) for cid in ids)
    return _HEADER.size + _MANIFEST_LEN.size + len(manifest.to_blob()) + frames + _FRAME.size


def export_archive(
    store: BlobStore, archive_id: str, out: BinaryIO, *, exclude: Iterable[str] = (), workers: int | None = None
) -> PackageStats:
    """Write the archive to ``out``, leaving out the chunks in ``exclude`` (which the receiver said
    it has). Every chunk is verified before it is written, so a damaged store is not propagated."""
    manifest = load_manifest(store, archive_id)
    manifest_blob = manifest.to_blob()
    skip = set(exclude)
    out.write(_HEADER.pack(MAGIC, VERSION, 0))
    out.write(_MANIFEST_LEN.pack(len(manifest_blob)))
    out.write(manifest_blob)
    refs = [(ref, label) for cid, (ref, label) in _owners(manifest).items() if cid not in skip]
    hash_name = manifest.algorithms.hash
    chunks = chunks_of(store)

    def job(ref: ChunkRef, label: str) -> Callable[[], bytes]:
        def run() -> bytes:
            blob = fetch_blob(chunks, ref, label)
            verify_chunk(blob, ref, label, hash_name)
            return blob

        return run

    count = total = 0
    n = workers or default_workers()
    with read_session(store), ThreadPoolExecutor(n, thread_name_prefix="archive-export") as pool:
        for (ref, _), blob in zip(refs, _bounded_map(pool, 2 * n, (job(r, lbl) for r, lbl in refs)), strict=True):
            out.write(_FRAME.pack(bytes.fromhex(ref.id), len(blob)))
            out.write(blob)
            count += 1
            total += len(blob)
    out.write(_FRAME.pack(_END_ID, 0))
    return PackageStats(count, total)


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    parts: list[bytes] = []
    left = n
    while left:
        data = src.read(left)
        if not data:
            raise PackageCorrupt(f"package is truncated in {what}")
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def read_package_manifest(src: BinaryIO) -> Manifest:
    """Read and verify the header and manifest, leaving ``src`` at the first chunk frame."""
    magic, version, flags = _HEADER.unpack(_read_exact(src, _HEADER.size, "header"))
    if magic != MAGIC:
        raise PackageCorrupt("not an archive package (bad magic)")
    if version != VERSION or flags != 0:
        raise PackageCorrupt(f"unsupported archive package version {version} (flags {flags:#x})")
    (length,) = _MANIFEST_LEN.unpack(_read_exact(src, _MANIFEST_LEN.size, "manifest length"))
    if length > MAX_MANIFEST_BLOB:
        raise PackageCorrupt(f"manifest of {length} bytes is too large")
    return Manifest.from_blob(_read_exact(src, length, "manifest"))


def import_archive(
    src: BinaryIO, store: BlobStore, *, workers: int | None = None, grace_seconds: float = DEFAULT_GRACE_SECONDS
) -> Manifest:
    """Read a package into ``store``: verify each chunk, store the new ones, check every chunk the
    manifest needs is then present, and publish the manifest last."""
    manifest = read_package_manifest(src)
    owners = _owners(manifest)
    hash_name = manifest.algorithms.hash
    session = session_key(manifest.archive_id)
    put_marker(store, session)
    gc_age = marker_age(store, GC_MARKER)
    rewrite = gc_age is not None and gc_age < grace_seconds
    received: set[str] = set()
    chunks = chunks_of(store)

    def job(cid: str, blob: bytes) -> Callable[[], bytes]:
        def run() -> bytes:
            ref, label = owners[cid]
            verify_chunk(blob, ref, label, hash_name)
            if rewrite or not chunks.exists(cid):
                chunks.put(cid, blob)
            return b""

        return run

    def frames() -> Iterable[Callable[[], bytes]]:
        while True:
            raw_id, length = _FRAME.unpack(_read_exact(src, _FRAME.size, "chunk frame"))
            if raw_id == _END_ID and length == 0:
                return
            cid = raw_id.hex()
            if cid not in owners:
                raise PackageCorrupt(f"package holds chunk {cid}, which its manifest does not use")
            if length > MAX_FRAME:
                raise PackageCorrupt(f"chunk {cid} frame of {length} bytes is too large")
            received.add(cid)
            yield job(cid, _read_exact(src, length, f"chunk {cid}"))

    n = workers or default_workers()
    try:
        with ThreadPoolExecutor(n, thread_name_prefix="archive-import") as pool:
            for _ in _bounded_map(pool, 2 * n, frames()):
                pass
        for cid, (_, label) in owners.items():
            if cid not in received and not chunks.exists(cid):
                raise ChunkMissing(cid, label, "neither in the package nor in the store")
        store.put(manifest_key(manifest.archive_id), manifest.to_blob())
    finally:
        store.delete(session)
    return manifest
