"""PackChunkStore: chunks appended to pack files (packs.py) of up to ``target_size`` bytes and found
through the pack index (pack_index.py), as restic and kopia keep them. Reads the chunks of the
one-blob-per-chunk layout too (``chunks/``), and writes only packs. Moves stored bytes only.

Order of writes, so that no index entry ever names an incomplete pack: a pack is committed whole
(and durable) through the BlobStore's writer, then an index blob naming it is put. A crash between
the two leaves a pack no index names; loading reads its table and indexes it, and gc collects its
chunks like any other. Puts go to the open pack, whose bytes are written as they come to a
BlobWriter (nothing visible under any key until it commits); ``sync()``, the size target or a read
of one of its chunks seals it.
Deletions are recorded in the next index blob; gc (pack_gc.py) drops or repacks whole packs.

Several processes (machines) may share one BlobStore, as restic's clients share a repository:
- each writes packs and index blobs of its own, under names no other can pick (a pack is named by
  its content, an index blob by time and 32 random bits), and never deletes another's; only gc's
  compaction replaces index blobs, under gc's rules (gc.py);
- loading applies every index blob in name order, so one written while gc compacted is not lost;
- a reader that does not find a chunk, or finds its pack gone, reads the index blobs written since
  it last looked before it declares the chunk missing (``refresh``);
- a deletion covers the copies stored before it was decided, never a copy another process stored
  afterwards (a writer that began after gc's session check rewrites the chunks it reuses)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from envclone.archive._pack_state import OpenPack, Pack, PackState, shared_state
from envclone.archive.chunk_store import BlobChunkStore
from envclone.archive.errors import ArchiveError, ChunkMissing
from envclone.archive.ids import is_chunk_id
from envclone.archive.pack_index import (
    DELETED,
    INDEX_PREFIX,
    IndexBlob,
    IndexDamaged,
    PackedEntries,
    PackInfo,
    decode_index,
    encode_index,
    is_index_key,
    join_cutoff,
    new_index_key,
    split_cutoff,
)
from envclone.archive.packs import (
    LAYOUT_KEY,
    LAYOUT_PACKS,
    PACK_PREFIX,
    PackDamaged,
    pack_id_of,
    pack_key,
    read_table,
)
from envclone.blobs import BlobStore
from envclone.blobs.store import read_range
from envclone.errors import NotFound

DEFAULT_PACK_SIZE = 16 * 1024 * 1024
# How often an ``exists`` that finds nothing looks for index blobs another process wrote.
_REFRESH_SECONDS = 2.0
# A pack open this long is sealed at the next put, though not full: a slow stream (a clone's
# transfer, a trickle of small writes) killed midway keeps what arrived before, as restic's
# would, instead of losing everything since the last sync.
MAX_OPEN_SECONDS = 3.0
# Filled packs that may wait, in memory, for the background sealer before a put stores one itself.
MAX_WAITING_PACKS = 2
_BATCH = 4096


def _raw(cid: str) -> bytes:
    if not is_chunk_id(cid):
        raise ArchiveError(f"invalid chunk id {cid!r}")
    return bytes.fromhex(cid)


class PackChunkStore:
    """A ChunkStore of pack files in a BlobStore (module docstring). Use ``shared(blobs)`` (as
    ``chunks_of`` does) so that every caller in a process sees one index and one open pack."""

    def __init__(
        self, blobs: BlobStore, *, target_size: int = DEFAULT_PACK_SIZE, state: PackState | None = None
    ) -> None:
        self.blobs = blobs
        self.target_size = target_size
        self._legacy = BlobChunkStore(blobs)
        self._st = state or PackState()

    @classmethod
    def shared(cls, blobs: BlobStore) -> PackChunkStore:
        return cls(blobs, state=shared_state(blobs))

    @property
    def damaged(self) -> list[str]:
        """Keys of packs and index blobs that loading could not read (left in place)."""
        self._ensure_loaded()
        return list(self._st.damaged)

    def location(self, cid: str) -> tuple[str, int, int] | None:
        """(pack key, offset, length) of a chunk in a stored pack; None if it is in none (absent,
        still in memory, or one blob per chunk). For reports and tests, never the contract."""
        raw = _raw(cid)
        self._ensure_loaded()
        with self._st.lock:
            where = self._st.table.get(raw)
            if where is None or where[0] in self._st.buffers:
                return None
            key = self._st.packs[where[0]].key
            return None if key is None else (key, where[1], where[2])

    # --- the ChunkStore contract ---------------------------------------------------------------
    def put(self, cid: str, blob: bytes, *, sync: bool = True) -> None:
        raw = _raw(cid)
        self._ensure_loaded()
        st = self._st
        with st.append:
            with st.lock:
                op = st.open
                if op is None:
                    op = st.open = OpenPack(len(st.packs), self.blobs.writer)
                    st.packs.append(Pack(None, time.time()))
                    st.buffers[op.number] = op
                before = st.table.get(raw)
                if before is not None and st.packs[before[0]].key is None and before[0] in st.buffers:
                    before = st.buffers[before[0]].replaced.get(raw)  # its stored copy, if any
                if before is not None and st.packs[before[0]].key is not None:
                    op.replaced.setdefault(raw, before)
                offset = op.builder.add(raw, len(blob))
                self._place(raw, op.number, offset, len(blob))
                st.packs[op.number].created = time.time()
                st.packs[op.number].body = op.builder.body
                st.deleted.pop(raw, None)
            try:  # into the pack's temporary file or upload, as it goes: a pack never sits in memory
                op.builder.write(blob)
            except BaseException as exc:
                op.error = exc  # the pack is closed now, and its seal undoes its places
            full = (
                op.error is not None
                or op.builder.body >= self.target_size
                or time.monotonic() - op.opened >= MAX_OPEN_SECONDS
            )
            if full:
                with st.lock:
                    st.full.append(op)
                    st.open = None
                    # Stored in the background (a pack's fsync must not stall the writer's ordered
                    # pipeline), unless packs fill faster than they are stored: then here, waiting.
                    inline = op.error is not None or len(st.full) > MAX_WAITING_PACKS
                    if not inline:
                        st.sealer = st.sealer or ThreadPoolExecutor(1, thread_name_prefix="pack-sealer")
                        st.sealing.append(st.sealer.submit(self._seal_full))
        if full and inline:
            self._seal_full()
        if sync:
            self.sync()

    def get(self, cid: str) -> bytes:
        raw = _raw(cid)
        self._ensure_loaded()
        found = self._read(raw)
        if found is not None:
            return found
        if self._st.has_legacy:
            try:
                return self._legacy.get(cid)
            except ChunkMissing:
                pass  # perhaps moved into a pack meanwhile (``compact`` migrates): look again
        if self._refresh(force=True) or self._st.has_legacy:
            found = self._read(raw)
            if found is not None:
                return found
        raise ChunkMissing(cid)

    def exists(self, cid: str) -> bool:
        """Looks for other processes' index blobs at most every few seconds (a writer asks this of
        every new chunk): call ``refresh()`` before taking an absence for certain."""
        raw = _raw(cid)
        self._ensure_loaded()
        if self._where(raw) is not None or (self._st.has_legacy and self._legacy.exists(cid)):
            return True
        return self._refresh(force=False) and self._where(raw) is not None

    def refresh(self) -> bool:
        """Apply the index blobs other processes wrote since this one last looked; whether there
        were any."""
        self._ensure_loaded()
        return self._refresh(force=True)

    def size(self, cid: str) -> int:
        raw = _raw(cid)
        self._ensure_loaded()
        where = self._where(raw)
        if where is None and self._st.has_legacy and self._legacy.exists(cid):
            return self._legacy.size(cid)
        if where is None and self._refresh(force=True):
            where = self._where(raw)
        if where is None:
            raise ChunkMissing(cid)
        return where[2]

    def delete(self, cid: str, *, before: float | None = None) -> None:
        """Delete the copies of the chunk stored before ``before`` (seconds since the epoch; now if
        None): gc passes its start, so a copy another process stored since is kept, wherever the
        deletion is applied (here, and by every process that loads the index blob recording it)."""
        raw = _raw(cid)
        self._ensure_loaded()
        st = self._st
        cutoff = time.time_ns() if before is None else max(int(before * 1e9), 1)
        with st.lock:
            where = st.table.get(raw)
            if where is not None and self._covers(where[0], cutoff):
                self._place(raw, DELETED, 0, 0)
                st.deleted[raw] = min(cutoff, st.deleted.get(raw, cutoff))
        if st.has_legacy and (before is None or ((age := self._legacy.age(cid, before)) is not None and age >= 0)):
            self._legacy.delete(cid)

    def _covers(self, number: int, cutoff: int) -> bool:
        """Whether a deletion decided at ``cutoff`` (ns; 0: always) covers a copy in pack
        ``number``. Lock held. An open pack's time is its last put: a rewrite after the decision."""
        return cutoff == 0 or self._st.packs[number].created * 1e9 <= cutoff

    def ids(self) -> Iterator[str]:
        self._ensure_loaded()
        st = self._st
        start = 0
        while True:
            with st.lock:
                stop = min(start + _BATCH, len(st.table))
                batch = [raw.hex() for raw, *_ in st.table.rows(start, stop)]
            yield from batch
            if stop == start or stop >= len(st.table):
                break
            start = stop
        if st.has_legacy:
            for cid in self._legacy.ids():
                if self._where(bytes.fromhex(cid)) is None:
                    yield cid

    def age(self, cid: str, now: float) -> float | None:
        raw = _raw(cid)
        self._ensure_loaded()
        st = self._st
        with st.lock:
            where = st.table.get(raw)
            if where is not None:
                return now - st.packs[where[0]].created
        return self._legacy.age(cid, now) if st.has_legacy else None

    def sync(self) -> None:
        self._ensure_loaded()
        st = self._st
        self._close()
        try:
            self._seal_full()
        finally:
            with st.lock:
                sealing, st.sealing = st.sealing, []
            failures = [error for work in sealing if (error := work.exception()) is not None]
        if failures:  # a pack that could not be stored fails the sync that should have made it durable
            raise failures[0]
        with st.commit:
            with st.lock:
                deletions = self._take_deletions()
            if deletions:
                self._write_index(IndexBlob(False, [], deletions))
        self.blobs.sync()

    @property
    def holds_blob_chunks(self) -> bool:
        """Whether chunks of the one-blob-per-chunk layout remain (``pack_gc.migrate_legacy``)."""
        self._ensure_loaded()
        return self._st.has_legacy

    @property
    def index_blobs(self) -> int:
        """How many index blobs this store has read or written (compaction makes them one)."""
        self._ensure_loaded()
        return len(self._st.index_keys)

    # --- reading -------------------------------------------------------------------------------
    def _where(self, raw: bytes) -> tuple[int, int, int] | None:
        with self._st.lock:
            return self._st.table.get(raw)

    def _read(self, raw: bytes) -> bytes | None:
        """The chunk from its pack (or the pack still in memory); None if the index has no such
        chunk. A pack gone under a reader is retried once the index says where the chunk moved."""
        st = self._st
        refreshed = False
        while True:
            with st.lock:
                where = st.table.get(raw)
                if where is None:
                    return None
                number, offset, length = where
                unsealed = st.buffers.get(number)
                if unsealed is not None:  # a copy in a pack not yet stored: the one before, if any
                    before = unsealed.replaced.get(raw)
                    earlier = None if before is None else st.packs[before[0]].key
                key = st.packs[number].key
            if unsealed is not None:
                if before is not None and earlier is not None:
                    try:
                        return read_range(self.blobs, earlier, before[1], before[2])
                    except NotFound:
                        pass  # dropped by gc since (why it was rewritten): read the new copy
                # Written to the pack's temporary file or upload only: store the pack first.
                self._close(number)
                self._seal_full()
                continue
            try:
                if key is None:
                    raise NotFound("pack dropped")
                return read_range(self.blobs, key, offset, length)
            except NotFound:
                if self._where(raw) != where:
                    continue  # moved meanwhile (a repack in this process): read it there
                if not refreshed:  # perhaps another process's gc moved it: its index says where
                    refreshed = True
                    self._refresh(force=True)
                    continue
                raise ChunkMissing(raw.hex(), reason=f"its pack {key} is gone") from None

    # --- writing -------------------------------------------------------------------------------
    def _close(self, number: int | None = None) -> None:
        """Close the open pack (if it is pack ``number``, when given) so the next seal stores it.
        Waits for a put writing into it. Not under the commit lock (``_write_full`` inlines this)."""
        st = self._st
        with st.append, st.lock:
            if st.open is not None and number in (None, st.open.number):
                st.full.append(st.open)
                st.open = None

    def _place(self, raw: bytes, number: int, offset: int, length: int) -> None:
        """Point the index at a chunk's new place (or mark it deleted), keeping pack counts. Lock held."""
        st = self._st
        before = st.table.set(raw, number, offset, length)
        if before is not None:
            st.packs[before[0]].live -= before[1]
        if number != DELETED:
            st.packs[number].live += length

    def _take_deletions(self) -> list[tuple[bytes, int, int, int]]:
        st = self._st
        deletions = [
            (raw, DELETED, *split_cutoff(cutoff)) for raw, cutoff in st.deleted.items() if st.table.get(raw) is None
        ]
        st.deleted.clear()
        return deletions

    def _seal_full(self) -> None:
        st = self._st
        with st.commit:
            while True:
                with st.lock:
                    if not st.full:
                        return
                    op = st.full.pop(0)
                self._seal(op)

    def _seal(self, op: OpenPack) -> None:
        """Store a filled pack (written as it filled: only its table and footer are left), then the
        index blob naming it. Commit lock held."""
        st = self._st
        created_ns = time.time_ns()
        body = op.builder.body
        try:
            if op.error is not None:
                raise op.error
            if not st.marked:
                self.blobs.put(LAYOUT_KEY, LAYOUT_PACKS)  # before the first pack: older versions must not misread
                st.marked = True
            pack_id = op.builder.finish(created_ns)
            op.builder.writer.commit(pack_key(pack_id))  # type: ignore[union-attr]  # finish checks it
        except BaseException:
            op.builder.abort()
            with st.lock:  # these copies were never stored: back to where each was before, if anywhere
                for raw, offset, length in op.builder.rows:
                    if st.table.get(raw) == (op.number, offset, length):
                        self._place(raw, *op.replaced.get(raw, (DELETED, 0, 0)))
                del st.buffers[op.number]
            raise
        with st.lock:
            pack = st.packs[op.number]
            pack.key, pack.created, pack.body = pack_key(pack_id), created_ns / 1e9, body
            st.numbers[pack_id] = op.number
            del st.buffers[op.number]
            entries = PackedEntries()
            for raw, offset, length in op.builder.rows:
                if st.table.get(raw) == (op.number, offset, length):
                    entries.append(raw, 0, offset, length)
            for deletion in self._take_deletions():
                entries.append(*deletion)
        self._write_index(IndexBlob(False, [PackInfo(pack_id, created_ns, body)], entries))

    def _write_index(self, blob: IndexBlob, *, sync: bool = False) -> str:
        """Put an index blob. Commit lock held. Unsynced: ``sync()`` makes it durable, and if it is
        lost its packs are indexed again from their tables (deletions are merely forgotten)."""
        key = new_index_key()
        try:
            self.blobs.put(key, encode_index(blob), sync=sync)
        except BaseException:
            with self._st.lock:
                self._st.deleted.update(
                    (raw, join_cutoff(high, low)) for raw, pack, high, low in blob.entries if pack == DELETED
                )
            raise
        self._st.index_keys.add(key)
        return key

    # --- loading -------------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        st = self._st
        if st.loaded:
            return
        with st.commit:
            if not st.loaded:
                self._load()
                st.loaded = True

    def _stored_packs(self) -> set[str]:
        return {pid for key in self.blobs.list(PACK_PREFIX) if (pid := pack_id_of(key)) is not None}

    def _load(self) -> None:
        """Apply every readable index blob in name order, dropping entries whose pack is gone (a
        full index's compaction deletes the blobs it replaces; one another process wrote meanwhile
        survives it and still counts); then index every stored pack that no index blob names (a
        crash between a pack and its index, or a lost or damaged index) from the pack's own table."""
        st = self._st
        stored = self._stored_packs()
        keys = sorted(key for key in self.blobs.list(INDEX_PREFIX) if is_index_key(key))
        with st.lock:
            st.refreshed = time.monotonic()
        for key in keys:
            try:
                blob = decode_index(self.blobs.get(key))
            except (IndexDamaged, NotFound):
                st.damaged.append(key)
                continue
            with st.lock:
                self._apply(blob, stored)
        with st.lock:
            st.index_keys.update(keys)
        for pack_id in sorted(stored - set(st.numbers)):
            self._index_orphan(pack_id)
        st.has_legacy = next(iter(self._legacy.ids()), None) is not None
        st.marked = self.blobs.exists(LAYOUT_KEY)

    def _apply(self, blob: IndexBlob, stored: set[str]) -> None:
        st = self._st
        numbers: list[int | None] = []
        for info in blob.packs:
            number = st.numbers.get(info.pack_id)
            if number is None and info.pack_id in stored:
                number = st.numbers[info.pack_id] = len(st.packs)
                st.packs.append(Pack(pack_key(info.pack_id), info.created_ns / 1e9, info.body))
            numbers.append(number)
        for raw, pack, offset, length in blob.entries:
            if pack == DELETED:
                where = st.table.get(raw)
                if where is not None and self._covers(where[0], join_cutoff(offset, length)):
                    self._place(raw, DELETED, 0, 0)
            elif (number := numbers[pack]) is not None:
                self._place(raw, number, offset, length)

    def _index_orphan(self, pack_id: str) -> None:
        st = self._st
        try:
            table = read_table(self.blobs, pack_key(pack_id))
        except (PackDamaged, NotFound):
            st.damaged.append(pack_key(pack_id))
            return
        with st.lock:
            number = st.numbers[pack_id] = len(st.packs)
            st.packs.append(Pack(pack_key(pack_id), table.created_ns / 1e9, table.body))
            for raw, offset, length in table.rows:
                if st.table.get(raw) is None:
                    self._place(raw, number, offset, length)

    def _refresh(self, *, force: bool) -> bool:
        """Apply index blobs written since loading by another process; whether there were any."""
        st = self._st
        if not force and time.monotonic() - st.refreshed < _REFRESH_SECONDS:
            return False
        st.refreshed = time.monotonic()
        new = sorted(key for key in self.blobs.list(INDEX_PREFIX) if is_index_key(key) and key not in st.index_keys)
        if not new:
            return False
        stored = self._stored_packs()
        with st.commit:
            for key in new:
                if key in st.index_keys:
                    continue  # our own, put while we listed: its state is already ours (or newer)
                try:
                    blob = decode_index(self.blobs.get(key))
                except (IndexDamaged, NotFound):
                    continue
                with st.lock:
                    self._apply(blob, stored)
                st.index_keys.add(key)
        return True

    def _write_full(self, gone: set[int]) -> None:
        """One full index blob of every stored pack but ``gone``; then every older index blob goes."""
        st = self._st
        with st.commit:
            self._close()
            with st.lock:
                waiting, st.full = st.full, []
            for op in waiting:
                self._seal(op)
            with st.lock:
                blob = self._full_index(gone)
                old = set(st.index_keys) | {k for k in st.damaged if k.startswith(INDEX_PREFIX)}
            key = self._write_index(blob, sync=True)
            for stale in sorted(old):
                self.blobs.delete(stale)
            st.index_keys -= old
            st.index_keys.add(key)
            st.damaged[:] = [k for k in st.damaged if k not in old]

    def _full_index(self, gone: set[int]) -> IndexBlob:
        """The whole index as one blob, leaving out packs ``gone``. Lock held. A chunk put again
        into a pack not yet stored (puts race with this) is named where it was stored before."""
        st = self._st
        kept = [(n, p) for n, p in enumerate(st.packs) if p.key is not None and n not in gone]
        local = {n: i for i, (n, _) in enumerate(kept)}
        infos = [PackInfo(str(p.key).removeprefix(PACK_PREFIX), int(p.created * 1e9), p.body) for _, p in kept]
        entries = PackedEntries()
        for raw, n, offset, length in st.table.rows():
            if n in local:
                entries.append(raw, local[n], offset, length)
        for op in [*st.full, *([st.open] if st.open is not None else [])]:
            for raw, (n, offset, length) in op.replaced.items():
                if n in local and (where := st.table.get(raw)) is not None and where[0] == op.number:
                    entries.append(raw, local[n], offset, length)
        for deletion in self._take_deletions():
            entries.append(*deletion)
        return IndexBlob(True, infos, entries)
