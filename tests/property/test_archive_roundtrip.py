"""Hypothesis properties of the archive format: round trips, dedup, boundary stability, and that
damage is always reported by chunk name, never returned."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import blake3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envclone.archive import (
    ArchiveError,
    ArchiveReader,
    ArchiveWriter,
    ChunkCorrupt,
    ChunkMissing,
    Manifest,
    chunks_of,
    export_archive,
    import_archive,
    verify_package,
)
from envclone.archive.chunker import Chunker, chunker_spec
from envclone.archive.package import package_size
from envclone.blobs import LocalBlobStore
from tests.chunk_damage import chunk_bytes, flip_bit, lose

SMALL = "fastcdc2020-4k"
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def fresh_store() -> Iterator[LocalBlobStore]:
    with tempfile.TemporaryDirectory() as tmp:
        yield LocalBlobStore(Path(tmp))


def noise(seed: int, size: int) -> bytes:
    return bytes(blake3.blake3(seed.to_bytes(8, "big")).digest(length=size))


# Content: hypothesis bytes mixed with pseudo-random runs large enough to span many chunks.
content = st.one_of(
    st.binary(max_size=5000),
    st.builds(noise, st.integers(0, 2**32), st.integers(0, 120_000)),
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=50), st.integers(1, 2000)),
)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
entries = st.dictionaries(st.tuples(st.sampled_from(["files", "users", "jobConsole"]), names), content, max_size=6)


def write(store: LocalBlobStore, archive: dict[tuple[str, str], bytes], split: int = 997) -> ArchiveWriter:
    writer = ArchiveWriter(store, chunker=SMALL, workers=2)
    for (component, name), data in archive.items():
        writer.add_stream(component, name, (data[i : i + split] for i in range(0, len(data), split)))
    return writer


@FAST
@given(entries, st.integers(1, 70_000))
def test_round_trip(archive: dict[tuple[str, str], bytes], split: int) -> None:
    with fresh_store() as store:
        writer = write(store, archive, split)
        manifest = writer.finish()
        assert manifest.counts()["entries"] == len(archive)
        assert manifest.counts()["bytes"] == sum(map(len, archive.values()))
        with ArchiveReader.open(store, manifest.archive_id, workers=2) as reader:
            for (component, name), data in archive.items():
                assert reader.read_bytes(component, name) == data


@FAST
@given(st.lists(content, min_size=1, max_size=4))
def test_same_content_is_stored_once(blobs: list[bytes]) -> None:
    with fresh_store() as store:
        first = write(store, {("files", str(i)): b for i, b in enumerate(blobs)})
        first.finish()
        stored = sorted(chunks_of(store).ids())
        second = write(store, {("users", str(i)): b for i, b in enumerate(reversed(blobs))})
        second.finish()
        assert second.stats.new_chunks == 0
        assert sorted(chunks_of(store).ids()) == stored


@FAST
@given(st.integers(0, 2**32), st.integers(50_000, 200_000), st.binary(min_size=1, max_size=64), st.integers(0, 2000))
def test_insertion_near_start_changes_few_chunks(seed: int, size: int, inserted: bytes, at: int) -> None:
    spec = chunker_spec(SMALL)
    data = noise(seed, size)
    before = [bytes(c) for c in Chunker(spec).cut_pieces([data])]
    after = [bytes(c) for c in Chunker(spec).cut_pieces([data[:at] + inserted + data[at:]])]
    changed = len(set(after) - set(before))
    assert changed <= 3, (changed, len(before))
    assert len(set(before) & set(after)) >= len(before) - 3


@FAST
@given(entries.filter(lambda e: any(e.values())), st.data())
def test_any_damaged_or_missing_chunk_is_named(archive: dict[tuple[str, str], bytes], data: st.DataObject) -> None:
    with fresh_store() as store:
        manifest = write(store, archive).finish()
        owners = {ref.id: (c, e.name) for c, e in manifest.entries() for ref in e.chunks}
        victim = data.draw(st.sampled_from(sorted(owners)))
        delete = data.draw(st.booleans())
        if delete:
            lose(store, victim)
        else:
            length = chunk_bytes(store, victim)[2]
            flip_bit(store, victim, data.draw(st.integers(0, length - 1)), data.draw(st.integers(0, 7)))
        with ArchiveReader(store, manifest, workers=2) as reader:
            problems = reader.check()
            assert [(type(p), p.chunk_id) for p in problems] == [(ChunkMissing if delete else ChunkCorrupt, victim)]
            component, name = owners[victim]
            try:
                reader.read_bytes(component, name)
            except (ChunkMissing, ChunkCorrupt) as exc:
                assert exc.chunk_id == victim
                assert exc.entry is not None and exc.entry.startswith(component + "/")
            else:
                raise AssertionError("damaged chunk was returned")


@FAST
@given(entries, st.integers(0, 2**32))
def test_package_round_trip_and_damage(archive: dict[tuple[str, str], bytes], where: int) -> None:
    with fresh_store() as source, fresh_store() as target:
        manifest = write(source, archive).finish()
        out = io.BytesIO()
        export_archive(source, manifest.archive_id, out, workers=2)
        raw = out.getvalue()
        assert package_size(source, manifest) == len(raw)
        assert verify_package(io.BytesIO(raw), target, workers=2).digest == manifest.digest
        assert list(target.list()) == [], "verifying stores nothing"
        assert import_archive(io.BytesIO(raw), target, workers=2).digest == manifest.digest
        with ArchiveReader.open(target, manifest.archive_id) as reader:
            assert reader.check() == []
            for (component, name), content in archive.items():
                assert reader.read_bytes(component, name) == content
        damaged = bytearray(raw)
        damaged[where % len(raw)] ^= 0xFF  # the manifest's size varies with its creation time
        with fresh_store() as other:
            try:
                verify_package(io.BytesIO(bytes(damaged)), other, workers=2)
            except Exception as exc:
                assert isinstance(exc, ArchiveError), repr(exc)
            else:
                raise AssertionError("damaged package was verified")
            assert list(other.list()) == []
            try:
                import_archive(io.BytesIO(bytes(damaged)), other, workers=2)
            except Exception as exc:
                assert isinstance(exc, ArchiveError), repr(exc)
            else:
                raise AssertionError("damaged package was imported")
            assert list(other.list("manifests/")) == []


@FAST
@given(entries, st.integers(0, 2**32), st.binary(min_size=1, max_size=64))
def test_package_is_a_zip_and_nothing_else_is_accepted(
    archive: dict[tuple[str, str], bytes], where: int, tail: bytes
) -> None:
    """Every package is a valid ZIP (read back member by member by Python's zipfile: the manifest
    and each chunk as stored), and a package cut short or followed by anything is refused."""
    with fresh_store() as source:
        manifest = write(source, archive).finish()
        out = io.BytesIO()
        export_archive(source, manifest.archive_id, out, workers=2)
        raw = out.getvalue()
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            assert zf.testzip() is None
            assert zf.namelist()[:2] == ["envclone-package", "manifest"]
            assert Manifest.from_blob(zf.read("manifest")).digest == manifest.digest
            ids = {ref.id for _, e in manifest.entries() for ref in e.chunks}
            assert {n.removeprefix("chunks/") for n in zf.namelist()[2:]} == ids
            for cid in ids:
                assert zf.read(f"chunks/{cid}") == chunks_of(source).get(cid)
        for bad in (raw[: where % len(raw)], raw + tail):
            with fresh_store() as other:
                try:
                    import_archive(io.BytesIO(bad), other, workers=2)
                except Exception as exc:
                    assert isinstance(exc, ArchiveError), repr(exc)
                else:
                    raise AssertionError("a truncated or extended package was imported")
