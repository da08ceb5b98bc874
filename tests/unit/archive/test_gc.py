from __future__ import annotations

import io

import pytest

from envclone.archive import ArchiveNotFound, ArchiveReader, ArchiveWriter, chunk_ids, gc, list_archives
from envclone.archive._age import blob_age
from envclone.archive._session import GC_MARKER, SESSION_PREFIX
from envclone.archive.package import export_archive
from envclone.blobs import LocalBlobStore

from ._helpers import sample, write_archive


def test_unreferenced_old_chunks_go(store: LocalBlobStore) -> None:
    keep = write_archive(store, {"shared": b"shared " * 3000, "k": b"keep me"}, "keep")
    drop = write_archive(store, {"shared": b"shared " * 3000, "d": b"drop me"}, "drop")
    result = gc(store, ["keep"], grace_seconds=0)
    assert result.skipped is None
    assert result.deleted_archives == ["drop"]
    assert set(result.deleted_chunks) == set(chunk_ids(drop)) - set(chunk_ids(keep))
    assert list_archives(store) == ["keep"]
    with ArchiveReader.open(store, "keep") as reader:
        assert reader.check() == []
    assert not store.exists(GC_MARKER)


def test_young_chunks_and_archives_survive(store: LocalBlobStore) -> None:
    sample(store, "fresh")
    result = gc(store, [])
    assert result.deleted_chunks == []
    assert result.deleted_archives == []
    assert result.kept_archives == ["fresh"]


def test_young_orphan_chunks_survive(store: LocalBlobStore) -> None:
    writer = ArchiveWriter(store)
    writer.add_bytes("files", "a", b"in progress")
    writer.abort()  # leaves an orphan chunk, as a crashed writer would
    assert gc(store, [], grace_seconds=3600).young_chunks == 1
    assert len(gc(store, [], grace_seconds=0).deleted_chunks) == 1


def test_active_writer_blocks_the_sweep(store: LocalBlobStore) -> None:
    sample(store, "old")
    with ArchiveWriter(store) as writer:
        result = gc(store, [], grace_seconds=0)
        assert result.skipped is not None and writer.archive_id in result.skipped
        writer.add_bytes("files", "a", b"x")
        writer.finish()
    assert gc(store, [], grace_seconds=0).skipped is None


def test_an_open_reader_keeps_a_pruned_archive_readable(store: LocalBlobStore) -> None:
    write_archive(store, {"k": b"keep me"}, "keep")
    write_archive(store, {"d": b"streamed to a client " * 2000}, "drop")
    with ArchiveReader.open(store, "drop") as reader:
        result = gc(store, ["keep"], grace_seconds=0)  # retention dropped it mid-stream
        assert result.skipped is not None and "read-" in result.skipped
        assert result.deleted_chunks == []
        assert b"".join(reader.read("files", "d")) == b"streamed to a client " * 2000
    assert not list(store.list(SESSION_PREFIX))  # the reader's marker went with it
    assert gc(store, ["keep"], grace_seconds=0).deleted_archives == ["drop"]


def test_an_export_leaves_no_session_behind(store: LocalBlobStore) -> None:
    write_archive(store, {"a": b"payload " * 1000}, "pkg")
    export_archive(store, "pkg", io.BytesIO())
    assert not list(store.list(SESSION_PREFIX))


def test_missing_kept_archive_aborts(store: LocalBlobStore) -> None:
    sample(store, "old")
    with pytest.raises(ArchiveNotFound):
        gc(store, ["gone"], grace_seconds=0)
    assert list_archives(store) == ["old"]
    assert not store.exists(GC_MARKER)


def test_dry_run_deletes_nothing(store: LocalBlobStore) -> None:
    manifest = sample(store, "old")
    result = gc(store, [], grace_seconds=0, dry_run=True)
    assert set(result.deleted_chunks) == set(chunk_ids(manifest))
    with ArchiveReader.open(store, "old") as reader:
        assert reader.check() == []


def test_blob_age(store: LocalBlobStore) -> None:
    store.put("x", b"1")
    age = blob_age(store, "x", now=__import__("time").time())
    assert age is not None and 0 <= age < 60
    assert blob_age(store, "missing", now=0) is None
