"""Several processes sharing one pack store (API and worker processes on several machines over one
folder or one S3 bucket): each is a PackChunkStore over its own BlobStore instance, sharing nothing
in memory, as separate processes would; the last test runs two real processes. Writers at once
lose nothing, a reader finds what another stored before it calls a chunk missing, and gc neither
drops a pack another process just stored nor deletes a copy stored after it began."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from envclone.archive import PackChunkStore, chunk_id, compact_packs, missing_chunks
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode
from envclone.archive.pack_index import INDEX_PREFIX
from envclone.archive.packs import PACK_PREFIX
from envclone.blobs import BlobStore, LocalBlobStore
from tests.s3_server import S3Server, shared_s3_server

from .conftest import pseudo_random

CODEC = compression(DEFAULT_COMPRESSION)
Opener = Callable[[], BlobStore]  # a new process's BlobStore over the shared location


def stored(n: int, size: int = 3000) -> tuple[str, bytes]:
    content = pseudo_random(size, n.to_bytes(4, "big"))
    return chunk_id(content), encode(content, CODEC)


def local_opener(root: Path) -> Opener:
    return lambda: LocalBlobStore(root)


def s3_opener(s3: S3Server, prefix: str) -> Opener:
    return lambda: s3.store(prefix)


@pytest.fixture(params=["local", "s3"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "local":
        return local_opener(tmp_path / "blobs")
    return s3_opener(shared_s3_server(), f"t-{tmp_path.name}-{time.time_ns()}/")


def process(open_store: Opener, target: int = 16_000) -> PackChunkStore:
    """What one process sees: its own BlobStore and pack state."""
    return PackChunkStore(open_store(), target_size=target)


def keys(store: BlobStore, prefix: str) -> set[str]:
    return set(store.list(prefix))


def test_two_writers_at_once_lose_nothing(shared: Opener) -> None:
    # Half the ids overlap: both store their own copy, and either copy serves.
    plans = {name: dict(stored(n) for n in range(start, start + 60)) for name, start in (("a", 0), ("b", 30))}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(name: str) -> None:
        try:
            chunks = process(shared)
            barrier.wait()
            for n, (cid, blob) in enumerate(plans[name].items()):
                chunks.put(cid, blob, sync=n % 7 == 6)
                if n % 10 == 9:  # and read what the other one has made durable so far
                    for other_cid, other_blob in plans["b" if name == "a" else "a"].items():
                        if chunks.exists(other_cid):
                            assert chunks.get(other_cid) == other_blob
            chunks.sync()
        except BaseException as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=write, args=(name,)) for name in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    everything = {**plans["a"], **plans["b"]}
    reader = process(shared)
    assert sorted(reader.ids()) == sorted(everything)
    assert all(reader.get(cid) == blob for cid, blob in everything.items())
    # No writer deleted or replaced another's index blob: one per pack each sealed.
    store = shared()
    assert len(keys(store, INDEX_PREFIX)) == len(keys(store, PACK_PREFIX)) > 2


def test_a_reader_looks_again_before_calling_a_chunk_missing(shared: Opener) -> None:
    reader_blobs = shared()
    reader = PackChunkStore.shared(reader_blobs)
    assert list(reader.ids()) == []  # loaded: it now knows an empty store
    made = dict(stored(n) for n in range(5))
    writer = process(shared)
    for cid, blob in made.items():
        writer.put(cid, blob, sync=False)
    writer.sync()
    # The have/want check of a transfer finishing in the other process must not ask for them again.
    assert missing_chunks(reader_blobs, list(made)) == []
    assert all(reader.get(cid) == blob for cid, blob in made.items())


def test_compaction_leaves_a_pack_another_process_just_stored(shared: Opener) -> None:
    cid, blob = stored(1)
    first = process(shared)
    first.put(cid, blob)
    gc_side = process(shared)
    assert gc_side.exists(cid)
    # Another process stores the same chunk again (a writer that saw gc's marker rewrites what it
    # reuses): to the gc side, which has not seen its index, the new pack holds nothing live.
    late = process(shared)
    late.put(cid, blob)
    old, new = first.location(cid), late.location(cid)
    assert old is not None and new is not None and old[0] != new[0]
    gc_side.delete(cid, before=time.time() - 3600)  # decided an hour ago: covers neither copy
    result = compact_packs(gc_side)  # the default grace: a day
    assert result.dropped_packs == [] and result.young_packs == 2
    store = shared()
    assert keys(store, PACK_PREFIX) == {old[0], new[0]}
    assert process(shared).get(cid) == blob


def test_a_deletion_never_covers_a_copy_stored_after_gc_began(shared: Opener) -> None:
    (keep, keep_blob), (drop, drop_blob) = stored(1), stored(2)
    writer = process(shared)
    writer.put(keep, keep_blob, sync=False)
    writer.put(drop, drop_blob, sync=False)
    writer.sync()
    gc_side = process(shared)
    assert sorted(gc_side.ids()) == sorted([keep, drop])  # gc reads the index
    started = time.time()
    time.sleep(0.01)
    # A writer that began after gc read the sessions rewrites the chunk it reuses, in a pack of
    # its own, which gc's process does not see before deciding.
    rewriter = process(shared)
    rewriter.put(keep, keep_blob)
    for cid in (keep, drop):  # both unreferenced as gc saw the archives
        gc_side.delete(cid, before=started)
    gc_side.sync()  # the deletions' index blob, named after the rewriter's
    fresh = process(shared)
    assert sorted(fresh.ids()) == [keep] and fresh.get(keep) == keep_blob
    assert gc_side.get(keep) == keep_blob  # not in its index: it looks again, and finds the rewrite
    compact_packs(gc_side, grace_seconds=0)  # drops the first pack: nothing live in it
    after = process(shared)
    assert sorted(after.ids()) == [keep]
    assert after.get(keep) == keep_blob and rewriter.get(keep) == keep_blob


def test_a_reader_follows_chunks_another_process_repacked(shared: Opener) -> None:
    made = dict(stored(n) for n in range(8))
    writer = process(shared, target=1 << 20)
    for cid, blob in made.items():
        writer.put(cid, blob, sync=False)
    writer.sync()
    (old_pack,) = keys(shared(), PACK_PREFIX)
    reader = process(shared)
    assert sorted(reader.ids()) == sorted(made)  # loaded: knows every chunk in the old pack
    gc_side = process(shared)
    survivors = list(made)[:2]
    for cid in list(made)[2:]:
        gc_side.delete(cid)
    result = compact_packs(gc_side, grace_seconds=0)
    assert result.repacked_packs == [old_pack] and old_pack not in keys(shared(), PACK_PREFIX)
    # The reader's index still names the old pack: finding it gone, it reads the new index.
    assert all(reader.get(cid) == made[cid] for cid in survivors)


def _write_in_a_process(location: tuple[str, str, str], first: int, count: int) -> None:
    kind, where, prefix = location
    blobs: BlobStore = LocalBlobStore(where) if kind == "local" else S3Server(where, prefix.split("|")[0]).store(
        prefix.split("|")[1]
    )
    chunks = PackChunkStore(blobs, target_size=16_000)
    for n in range(first, first + count):
        cid, blob = stored(n)
        chunks.put(cid, blob, sync=n % 11 == 10)
    chunks.sync()


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_two_real_processes_write_at_once(kind: str, tmp_path: Path) -> None:
    if kind == "local":
        location = ("local", str(tmp_path / "blobs"), "")
        opener = local_opener(tmp_path / "blobs")
    else:
        s3 = shared_s3_server()
        prefix = f"t-procs-{time.time_ns()}/"
        location = ("s3", s3.endpoint, f"{s3.bucket}|{prefix}")
        opener = s3_opener(s3, prefix)
    spawn = multiprocessing.get_context("spawn")
    others = [spawn.Process(target=_write_in_a_process, args=(location, 1000 * k, 80)) for k in (1, 2)]
    for other in others:
        other.start()
    _write_in_a_process(location, 0, 80)
    for other in others:
        other.join(120)
        assert other.exitcode == 0
    everything = dict(stored(n) for k in (0, 1, 2) for n in range(1000 * k, 1000 * k + 80))
    reader = process(opener)
    assert sorted(reader.ids()) == sorted(everything)
    assert all(reader.get(cid) == blob for cid, blob in everything.items())
