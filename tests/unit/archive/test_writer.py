from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from envclone.archive import ArchiveReader, ArchiveWriter, DuplicateEntry, EntryKind, chunks_of, load_manifest
from envclone.archive._session import GC_MARKER, put_marker, session_key
from envclone.archive.errors import ArchiveError
from envclone.blobs import LocalBlobStore

from .conftest import pseudo_random

SMALL = "fastcdc2020-4k"


def test_write_and_read_back(store: LocalBlobStore, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(pseudo_random(50_000, b"file"))
    with ArchiveWriter(store, source={"name": "prod"}, chunker=SMALL) as writer:
        writer.add_stream("jobConsole", "records", (b"line %d\n" % i for i in range(5000)))
        writer.add_file("files", "f.bin", path)
        writer.add_bytes("files", "empty", b"")
        manifest = writer.finish()
    assert manifest.source == {"name": "prod"}
    assert manifest.entry("files", "f.bin").kind is EntryKind.FILE
    assert manifest.entry("jobConsole", "records").kind is EntryKind.RECORDS
    assert load_manifest(store, manifest.archive_id) == manifest
    assert manifest.algorithms.chunker["name"] == SMALL
    with ArchiveReader(store, manifest) as reader:
        assert reader.read_bytes("files", "f.bin") == path.read_bytes()
        assert reader.read_bytes("jobConsole", "records") == b"".join(b"line %d\n" % i for i in range(5000))
        assert reader.read_bytes("files", "empty") == b""
    assert not store.exists(session_key(manifest.archive_id))


def test_same_content_is_stored_once(store: LocalBlobStore) -> None:
    data = pseudo_random(200_000)
    with ArchiveWriter(store, chunker=SMALL) as first:
        first.add_bytes("files", "a", data)
        first.add_bytes("files", "b", data)
        first.finish()
    assert first.stats.new_chunks == first.stats.chunks // 2
    with ArchiveWriter(store, chunker=SMALL) as second:
        second.add_bytes("files", "a", data)
        second.finish()
    assert second.stats.new_chunks == 0
    assert second.stats.stored_bytes == 0
    assert len(list(chunks_of(store).ids())) == first.stats.new_chunks


def test_duplicate_entry_is_refused(store: LocalBlobStore) -> None:
    with ArchiveWriter(store) as writer:
        writer.add_bytes("files", "a", b"1")
        with pytest.raises(DuplicateEntry):
            writer.add_bytes("files", "a", b"2")
        writer.add_bytes("users", "a", b"3")
        assert writer.finish().counts()["entries"] == 2


def test_failing_source_aborts_without_manifest(store: LocalBlobStore) -> None:
    def broken() -> object:
        yield b"x" * 10_000
        raise OSError("disk gone")

    writer = ArchiveWriter(store, chunker=SMALL)
    with pytest.raises(OSError, match="disk gone"):
        writer.add_stream("files", "a", broken())  # type: ignore[arg-type]
    assert list(store.list("manifests/")) == []
    assert list(store.list("sessions/")) == []
    with pytest.raises(ArchiveError):
        writer.finish()


def test_exit_without_finish_publishes_nothing(store: LocalBlobStore) -> None:
    with ArchiveWriter(store) as writer:
        writer.add_bytes("files", "a", b"data")
        assert store.exists(session_key(writer.archive_id))
    assert list(store.list("manifests/")) == []
    assert not store.exists(session_key(writer.archive_id))


def test_running_gc_makes_writers_rewrite_chunks(store: LocalBlobStore) -> None:
    with ArchiveWriter(store) as first:
        first.add_bytes("files", "a", b"data" * 100)
        first.finish()
    put_marker(store, GC_MARKER)
    with ArchiveWriter(store) as second:
        second.add_bytes("files", "a", b"data" * 100)
        second.finish()
    assert second.stats.new_chunks == 1
    with ArchiveWriter(store, grace_seconds=0) as third:  # a stale gc marker is ignored
        third.add_bytes("files", "a", b"data" * 100)
        third.finish()
    assert third.stats.new_chunks == 0


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys, time
    import blake3
    from envclone.archive import ArchiveWriter
    from envclone.blobs import LocalBlobStore

    MB = 1 << 20
    def stream(total):
        xof = blake3.blake3(b"memory")
        for i in range(total // MB):
            # A quarter random, the rest compressible but unique per block.
            yield xof.digest(length=MB // 4, seek=i * MB) + (b"%08d" % i) * (3 * MB // 32)

    store = LocalBlobStore(sys.argv[1])
    with ArchiveWriter(store) as writer:
        writer.add_stream("warmup", "w", stream(32 * MB))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        writer.add_stream("files", "big", stream(512 * MB))
        manifest = writer.finish()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert manifest.entry("files", "big").size == 512 * MB
    print(base // 1024, peak // 1024, round(512 / seconds))
    """
)


def test_memory_stays_flat_for_a_large_stream(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / "blobs")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    base_mb, peak_mb, mb_per_s = map(int, done.stdout.split())
    print(f"peak RSS {base_mb} -> {peak_mb} MB, {mb_per_s} MB/s")
    assert peak_mb - base_mb < 100
