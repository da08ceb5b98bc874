"""One archive as one self-contained, streamable file (a downloaded snapshot, an exported backup,
later a ``.projdup`` package): a ZIP container whose members are all stored (not compressed
again), in this order:

- ``envclone-package``: a marker saying what the file is and its format version (always the same
  bytes, so the first ``len(MAGIC)`` bytes of every package are ``MAGIC``);
- ``manifest``: the manifest blob (zstd JSON, self-hashed);
- ``chunks/<64 hex>``: one member per chunk in its stored form (zstd frames), named by its id;
- the central directory (ZIP64 records where sizes, offsets or counts need them).

Standard tools list and test it (``unzip -l``/``-t``, Python's ``zipfile``). The file is written
front to back without seeking: every member's size and CRC-32 are known before its header is
written (a chunk is held whole before it is written), so there are no data descriptors and the
file can also be read front to back. Import is strict: every byte must be what ``export_archive``
would have written for that manifest and those chunks (headers, central directory and end records
are rebuilt and compared; nothing may follow), every chunk is verified against its id and the
manifest against its hash before anything is published. Packages of format 1 (envclone's own
framing, before the ZIP container) are still imported, as strictly."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from envclone.archive._session import GC_MARKER, marker_age, put_marker, read_session, session_key
from envclone.archive.chunk_store import ChunkStore
from envclone.archive.errors import ChunkMissing, PackageCorrupt
from envclone.archive.ids import is_chunk_id, manifest_key
from envclone.archive.layout import chunks_of
from envclone.archive.manifest import ChunkRef, Manifest
from envclone.archive.reader import fetch_blob, load_manifest, verify_chunk
from envclone.archive.writer import DEFAULT_GRACE_SECONDS, default_workers
from envclone.blobs import BlobStore

T = TypeVar("T")
VERSION = 2
MAX_MANIFEST_BLOB = 256 * 1024 * 1024
# A stored chunk is at most pyfastcdc's largest chunk (16 MiB) plus codec overhead.
MAX_FRAME = 17 * 1024 * 1024

# --- the ZIP container (APPNOTE 6.3) -----------------------------------------------------------
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # signature .. extra length: 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_EOCD64 = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_LOCATOR64 = struct.Struct("<IIQI")  # 20 bytes
_ZIP64_OFFSET = struct.Struct("<HHQ")  # extra field 0x0001 holding only the local header offset
LOCAL_SIG, CENTRAL_SIG, EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50
EOCD64_SIG, LOCATOR64_SIG = 0x06064B50, 0x07064B50
_SIG = struct.Struct("<I")
_STORED, _NEEDED, _NEEDED64 = 0, 20, 45
_MADE_BY_UNIX = 3 << 8
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
# As Python's zipfile: offsets and sizes past 2 GiB go to ZIP64 fields (some readers take the
# 32-bit ones as signed), and so do member counts that do not fit 16 bits. Module constants, so
# tests can lower them to exercise the ZIP64 records with small packages.
ZIP64_LIMIT = (1 << 31) - 1
COUNT_LIMIT = 0xFFFF - 1

MARKER_NAME = b"envclone-package"
_MARKER_PREFIX = b"envclone archive package, format "
MARKER = _MARKER_PREFIX + str(VERSION).encode() + b"\n"
MANIFEST_NAME = b"manifest"
CHUNK_DIR = b"chunks/"
_MARKER_DOS = (0, (0 << 9) | (1 << 5) | 1)  # 1980-01-01 00:00, so that the marker never varies

# --- format 1 (read only) ----------------------------------------------------------------------
# MAGIC1, u16 version 1, u16 flags 0; u32 manifest length, manifest blob; frames of 32-byte raw
# chunk id, u32 length, stored chunk blob; an end frame of zero id and length.
MAGIC1 = b"ECARCH\r\n"
_HEADER1 = struct.Struct(">8sHH")
_MANIFEST_LEN1 = struct.Struct(">I")
_FRAME1 = struct.Struct(">32sI")
_END_ID1 = bytes(32)


@dataclass(frozen=True)
class PackageStats:
    chunks: int
    chunk_bytes: int


@dataclass(frozen=True, slots=True)
class _Member:
    name: bytes
    crc: int
    size: int
    offset: int
    dos: tuple[int, int]  # (time, date)


def _dos(when: dt.datetime) -> tuple[int, int]:
    """A member's ZIP (MS-DOS) time and date: the manifest's creation time in UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    year = min(max(when.year, 1980), 2107)
    time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    date = ((year - 1980) << 9) | (when.month << 5) | when.day
    return time, date


class _Zip:
    """The bytes of one package's ZIP structure, built the same way by the writer and by the strict
    reader (which compares), and by ``package_size`` (which only counts). Remembers every member
    for the central directory: a few hundred bytes per chunk, the only memory that grows with the
    package (as the manifest does)."""

    def __init__(self) -> None:
        self.offset = 0
        self.members: list[_Member] = []

    @staticmethod
    def _needed(offset: int) -> int:
        return _NEEDED64 if offset > ZIP64_LIMIT else _NEEDED

    def local(self, name: bytes, crc: int, size: int, dos: tuple[int, int]) -> bytes:
        """The local header (and name) of the next member, whose ``size`` bytes follow it."""
        offset = self.offset
        header = _LOCAL.pack(LOCAL_SIG, self._needed(offset), 0, _STORED, dos[0], dos[1], crc, size, size, len(name), 0)
        self.members.append(_Member(name, crc, size, offset, dos))
        self.offset += len(header) + len(name) + size
        return header + name

    def trailer(self) -> Iterator[bytes]:
        """The central directory, then the end records."""
        start = self.offset
        size = 0
        for m in self.members:
            big = m.offset > ZIP64_LIMIT
            extra = _ZIP64_OFFSET.pack(0x0001, 8, m.offset) if big else b""
            needed = self._needed(m.offset)
            record = _CENTRAL.pack(
                CENTRAL_SIG, _MADE_BY_UNIX | needed, needed, 0, _STORED, m.dos[0], m.dos[1], m.crc, m.size,
                m.size, len(m.name), len(extra), 0, 0, 0, _FILE_MODE, 0xFFFFFFFF if big else m.offset,
            )  # fmt: skip
            size += len(record) + len(m.name) + len(extra)
            yield record + m.name + extra
        count = len(self.members)
        if count > COUNT_LIMIT or start > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end64 = start + size
            yield _EOCD64.pack(EOCD64_SIG, 44, _MADE_BY_UNIX | _NEEDED64, _NEEDED64, 0, 0, count, count, size, start)
            yield _LOCATOR64.pack(LOCATOR64_SIG, 0, end64, 1)
            yield _EOCD.pack(EOCD_SIG, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        else:
            yield _EOCD.pack(EOCD_SIG, 0, 0, count, count, size, start, 0)


MAGIC = _Zip().local(MARKER_NAME, zlib.crc32(MARKER), len(MARKER), _MARKER_DOS) + MARKER


def is_package(head: bytes) -> bool:
    """Whether a file starting with ``head`` is meant as an archive package (of any format): a ZIP
    whose first member is the marker, or format 1's magic. Whether it is a sound one only import
    (or ``verify_package``) can tell."""
    if head.startswith(MAGIC1):
        return True
    start = _LOCAL.size
    return head[:4] == _SIG.pack(LOCAL_SIG) and head[start : start + len(MARKER_NAME)] == MARKER_NAME


def _chunk_name(cid: str) -> bytes:
    return CHUNK_DIR + cid.encode()


def _owners(manifest: Manifest) -> dict[str, tuple[ChunkRef, str]]:
    owners: dict[str, tuple[ChunkRef, str]] = {}
    for comp, entry in manifest.entries():
        for ref in entry.chunks:
            owners.setdefault(ref.id, (ref, f"{comp}/{entry.name}"))
    return owners


def _bounded_map(pool: ThreadPoolExecutor, depth: int, jobs: Iterable[Callable[[], T]]) -> Iterator[T]:
    """Run jobs on the pool, at most ``depth`` at a time, yielding results in order."""
    pending: deque[Future[T]] = deque()
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


# --- export ------------------------------------------------------------------------------------
def package_size(store: BlobStore, manifest: Manifest, *, exclude: Iterable[str] = ()) -> int:
    """The exact size of the file ``export_archive`` writes (for progress), without writing it."""
    skip = set(exclude)
    chunks = chunks_of(store)
    layout, dos = _Zip(), _dos(manifest.created_at)
    layout.local(MARKER_NAME, 0, len(MARKER), _MARKER_DOS)
    layout.local(MANIFEST_NAME, 0, len(manifest.to_blob()), dos)
    for cid in _owners(manifest):
        if cid not in skip:
            layout.local(_chunk_name(cid), 0, chunks.size(cid), dos)
    return layout.offset + sum(len(piece) for piece in layout.trailer())


def export_archive(
    store: BlobStore, archive_id: str, out: BinaryIO, *, exclude: Iterable[str] = (), workers: int | None = None
) -> PackageStats:
    """Write the archive to ``out`` (written front to back, never sought), leaving out the chunks
    in ``exclude`` (which the receiver said it has). Every chunk is verified before it is written,
    so a damaged store is not propagated."""
    manifest = load_manifest(store, archive_id)
    manifest_blob = manifest.to_blob()
    skip = set(exclude)
    layout, dos = _Zip(), _dos(manifest.created_at)
    out.write(layout.local(MARKER_NAME, zlib.crc32(MARKER), len(MARKER), _MARKER_DOS) + MARKER)
    out.write(layout.local(MANIFEST_NAME, zlib.crc32(manifest_blob), len(manifest_blob), dos))
    out.write(manifest_blob)
    refs = [(ref, label) for cid, (ref, label) in _owners(manifest).items() if cid not in skip]
    hash_name = manifest.algorithms.hash
    chunks = chunks_of(store)

    def job(ref: ChunkRef, label: str) -> Callable[[], tuple[bytes, int]]:
        def run() -> tuple[bytes, int]:
            blob = fetch_blob(chunks, ref, label)
            verify_chunk(blob, ref, label, hash_name)
            return blob, zlib.crc32(blob)

        return run

    count = total = 0
    n = workers or default_workers()
    with read_session(store), ThreadPoolExecutor(n, thread_name_prefix="archive-export") as pool:
        done = _bounded_map(pool, 2 * n, (job(r, lbl) for r, lbl in refs))
        for (ref, _), (blob, crc) in zip(refs, done, strict=True):
            out.write(layout.local(_chunk_name(ref.id), crc, len(blob), dos))
            out.write(blob)
            count += 1
            total += len(blob)
    for piece in layout.trailer():
        out.write(piece)
    return PackageStats(count, total)


# --- import ------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _Chunk:
    id: str
    blob: bytes
    crc: int | None  # the CRC-32 the package declares (format 2)


class _Reader:
    """Reads a package front to back, checking its structure as it goes; ``chunks`` ends (after
    the central directory and end records were checked, and the end of the file reached) or
    raises. Checking the chunks' content is the caller's."""

    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.zip = _Zip()
        head = _read_exact(src, 8, "header")
        if head == MAGIC1:
            self.version = 1
            self.manifest = self._manifest_v1()
        else:
            self.version = VERSION
            self.manifest = self._manifest_v2(head)
        self.dos = _dos(self.manifest.created_at)

    # format 2
    def _local(self, head: bytes = b"") -> tuple[bytes, tuple[int, ...], bytes]:
        raw = head + _read_exact(self.src, _LOCAL.size - len(head), "member header")
        fields = _LOCAL.unpack(raw)
        sound = fields[0] == LOCAL_SIG and fields[9] <= 128  # else the caller refuses it, unread
        name = _read_exact(self.src, fields[9], "member name") if sound else b""
        return raw, fields, name

    def _member(self, raw: bytes, fields: tuple[int, ...], name: bytes, limit: int) -> tuple[bytes, int]:
        """Check a member's header as far as its own bytes tell, and read its content."""
        _sig, _needed, flags, method, _time, _date, crc, packed, size, name_len, extra_len = fields
        what = name.decode("ascii", "replace") or "a member"
        if flags != 0 or method != _STORED:
            raise PackageCorrupt(f"unsupported archive package flags {flags:#x} or compression {method} in {what}")
        if packed != size or extra_len != 0 or name_len != len(name):
            raise PackageCorrupt(f"package member header of {what} is damaged")
        if size > limit:
            raise PackageCorrupt(f"package member {what} of {size} bytes is too large")
        return _read_exact(self.src, size, what), crc

    def _manifest_v2(self, head: bytes) -> Manifest:
        raw, fields, name = self._local(head)
        if fields[0] != LOCAL_SIG or name != MARKER_NAME:
            raise PackageCorrupt("not an archive package (bad magic)")
        content, _crc = self._member(raw, fields, name, 64)
        if not content.startswith(_MARKER_PREFIX):
            raise PackageCorrupt("not an archive package (bad magic)")
        version = content.removeprefix(_MARKER_PREFIX).strip()
        if version != str(VERSION).encode():
            raise PackageCorrupt(f"unsupported archive package version {version.decode('ascii', 'replace')!r}")
        if raw + name + content != MAGIC:
            raise PackageCorrupt("archive package marker is damaged")
        self.zip.local(MARKER_NAME, zlib.crc32(MARKER), len(MARKER), _MARKER_DOS)
        raw, fields, name = self._local()
        if fields[0] != LOCAL_SIG or name != MANIFEST_NAME:
            raise PackageCorrupt("package has no manifest after its marker")
        blob, crc = self._member(raw, fields, name, MAX_MANIFEST_BLOB)
        manifest = Manifest.from_blob(blob)  # checks the manifest's own hash
        if zlib.crc32(blob) != crc or self.zip.local(name, crc, len(blob), _dos(manifest.created_at)) != raw + name:
            raise PackageCorrupt("package member header of manifest is damaged")
        return manifest

    def _chunks_v2(self) -> Iterator[_Chunk]:
        while True:
            head = _read_exact(self.src, 4, "member header")
            if _SIG.unpack(head)[0] == CENTRAL_SIG:
                self._trailer(head)
                return
            raw, fields, name = self._local(head)
            if fields[0] != LOCAL_SIG:
                raise PackageCorrupt("package has a damaged member header or central directory")
            cid = name.removeprefix(CHUNK_DIR).decode("ascii", "replace")
            if not name.startswith(CHUNK_DIR) or not is_chunk_id(cid):
                raise PackageCorrupt(f"package member {name.decode('ascii', 'replace')!r} is not a chunk")
            blob, crc = self._member(raw, fields, name, MAX_FRAME)
            if self.zip.local(name, crc, len(blob), self.dos) != raw + name:
                raise PackageCorrupt(f"package member header of chunk {cid} is damaged")
            yield _Chunk(cid, blob, crc)

    def _trailer(self, head: bytes) -> None:
        pending = head  # the first record's signature, already read
        for piece in self.zip.trailer():
            got = pending + _read_exact(self.src, len(piece) - len(pending), "central directory")
            pending = b""
            if got != piece:
                raise PackageCorrupt("package central directory does not match its members")
        if self.src.read(1):
            raise PackageCorrupt("package has bytes after its end record")

    # format 1
    def _manifest_v1(self) -> Manifest:
        rest = _read_exact(self.src, _HEADER1.size - 8, "header")
        _magic, version, flags = _HEADER1.unpack(MAGIC1 + rest)
        if version != 1 or flags != 0:
            raise PackageCorrupt(f"unsupported archive package version {version} (flags {flags:#x})")
        (length,) = _MANIFEST_LEN1.unpack(_read_exact(self.src, _MANIFEST_LEN1.size, "manifest length"))
        if length > MAX_MANIFEST_BLOB:
            raise PackageCorrupt(f"manifest of {length} bytes is too large")
        return Manifest.from_blob(_read_exact(self.src, length, "manifest"))

    def _chunks_v1(self) -> Iterator[_Chunk]:
        while True:
            raw_id, length = _FRAME1.unpack(_read_exact(self.src, _FRAME1.size, "chunk frame"))
            if raw_id == _END_ID1 and length == 0:
                if self.src.read(1):
                    raise PackageCorrupt("package has bytes after its end frame")
                return
            cid = raw_id.hex()
            if length > MAX_FRAME:
                raise PackageCorrupt(f"chunk {cid} frame of {length} bytes is too large")
            yield _Chunk(cid, _read_exact(self.src, length, f"chunk {cid}"), None)

    def chunks(self) -> Iterator[_Chunk]:
        return self._chunks_v1() if self.version == 1 else self._chunks_v2()


def read_package_manifest(src: BinaryIO) -> Manifest:
    """Read and verify the package's marker (or format 1 header) and manifest, leaving ``src`` at
    the first chunk."""
    return _Reader(src).manifest


def _consume(
    src: BinaryIO,
    chunks: ChunkStore,
    workers: int | None,
    keep: Callable[[str, bytes], None] | None,
    on_manifest: Callable[[Manifest], None] = lambda _m: None,
) -> Manifest:
    """Read the whole package: every chunk verified against its id (and its CRC-32), handed to
    ``keep``; then every chunk the manifest needs must be in the package or already in ``chunks``.
    ``on_manifest`` runs once the manifest is read, before any chunk is."""
    reader = _Reader(src)
    manifest = reader.manifest
    on_manifest(manifest)
    owners = _owners(manifest)
    hash_name = manifest.algorithms.hash
    received: set[str] = set()

    def job(chunk: _Chunk) -> Callable[[], None]:
        def run() -> None:
            ref, label = owners[chunk.id]
            verify_chunk(chunk.blob, ref, label, hash_name)
            if chunk.crc is not None and zlib.crc32(chunk.blob) != chunk.crc:
                raise PackageCorrupt(f"package member of chunk {chunk.id} ({label}) does not match its CRC-32")
            if keep is not None:
                keep(chunk.id, chunk.blob)

        return run

    def jobs() -> Iterator[Callable[[], None]]:
        for chunk in reader.chunks():
            if chunk.id not in owners:
                raise PackageCorrupt(f"package holds chunk {chunk.id}, which its manifest does not use")
            if chunk.id in received:
                raise PackageCorrupt(f"package holds chunk {chunk.id} twice")
            received.add(chunk.id)
            yield job(chunk)

    n = workers or default_workers()
    with ThreadPoolExecutor(n, thread_name_prefix="archive-import") as pool:
        for _ in _bounded_map(pool, 2 * n, jobs()):
            pass
    for cid, (_, label) in owners.items():
        if cid not in received and not chunks.exists(cid):
            raise ChunkMissing(cid, label, "neither in the package nor in the store")
    return manifest


def import_archive(
    src: BinaryIO, store: BlobStore, *, workers: int | None = None, grace_seconds: float = DEFAULT_GRACE_SECONDS
) -> Manifest:
    """Read a package into ``store``: verify each chunk, store the new ones, check every chunk the
    manifest needs is then present and the package's structure is whole, and publish the manifest
    last. A session marker keeps gc off the archive's chunks meanwhile."""
    chunks = chunks_of(store)
    session: list[str] = []
    rewrite = False

    def started(manifest: Manifest) -> None:
        nonlocal rewrite
        session.append(session_key(manifest.archive_id))
        put_marker(store, session[0])
        gc_age = marker_age(store, GC_MARKER)
        rewrite = gc_age is not None and gc_age < grace_seconds

    def keep(cid: str, blob: bytes) -> None:
        if rewrite or not chunks.exists(cid):
            chunks.put(cid, blob, sync=False)  # made durable together before the manifest

    try:
        manifest = _consume(src, chunks, workers, keep, started)
        chunks.sync()
        store.put(manifest_key(manifest.archive_id), manifest.to_blob())
    finally:
        for key in session:
            store.delete(key)
    return manifest


def verify_package(src: BinaryIO, store: BlobStore, *, workers: int | None = None) -> Manifest:
    """Everything ``import_archive`` checks, storing nothing: the package's structure, every chunk
    against its id, the manifest against its hash, and that every chunk the manifest needs is in
    the package or already in ``store``. Raises an ``ArchiveError`` naming what is wrong."""
    return _consume(src, chunks_of(store), workers, None)
