from __future__ import annotations

import io
from pathlib import Path

import pytest

from envclone.archive import (
    ArchiveReader,
    ChunkCorrupt,
    ChunkMissing,
    ManifestCorrupt,
    PackageCorrupt,
    chunk_ids,
    export_archive,
    import_archive,
    missing_for,
    read_package_manifest,
)
from envclone.archive.package import MAGIC
from envclone.blobs import LocalBlobStore

from ._helpers import flip_byte, sample, write_archive


def export(store: LocalBlobStore, archive_id: str, exclude: list[str] | None = None) -> bytes:
    out = io.BytesIO()
    export_archive(store, archive_id, out, exclude=exclude or ())
    return out.getvalue()


def test_round_trip(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store, "pkg")
    raw = export(store, "pkg")
    assert raw.startswith(MAGIC)
    assert read_package_manifest(io.BytesIO(raw)) == manifest
    target = LocalBlobStore(tmp_path / "target")
    assert import_archive(io.BytesIO(raw), target) == manifest
    with ArchiveReader.open(target, "pkg") as reader:
        assert reader.check() == []
        assert reader.read_bytes("files", "b") == b"hello " * 5000
    assert list(target.list("sessions/")) == []


def test_have_want_sends_only_missing_chunks(store: LocalBlobStore, tmp_path: Path) -> None:
    target = LocalBlobStore(tmp_path / "target")
    write_archive(target, {"old": b"hello " * 5000})
    manifest = sample(store, "pkg")
    want = missing_for(target, manifest)
    assert 0 < len(want) < len(chunk_ids(manifest))
    have = [cid for cid in chunk_ids(manifest) if cid not in want]
    partial = export(store, "pkg", exclude=have)
    assert len(partial) < len(export(store, "pkg"))
    import_archive(io.BytesIO(partial), target)
    with ArchiveReader.open(target, "pkg") as reader:
        assert reader.check() == []


def test_chunk_missing_at_both_ends(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store, "pkg")
    skipped = chunk_ids(manifest)[0]
    with pytest.raises(ChunkMissing) as caught:
        import_archive(io.BytesIO(export(store, "pkg", exclude=[skipped])), LocalBlobStore(tmp_path / "t"))
    assert caught.value.chunk_id == skipped
    assert list(LocalBlobStore(tmp_path / "t").list("manifests/")) == []


def test_export_refuses_damaged_store(store: LocalBlobStore) -> None:
    manifest = sample(store, "pkg")
    flip_byte(store, chunk_ids(manifest)[0])
    with pytest.raises(ChunkCorrupt):
        export(store, "pkg")


def test_damaged_chunk_frame_is_named(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = write_archive(store, {"b": b"hello " * 5000}, "pkg")
    raw = bytearray(export(store, "pkg"))
    raw[-40] ^= 0x01  # inside the last chunk frame, before the 36-byte end frame
    with pytest.raises(ChunkCorrupt) as caught:
        import_archive(io.BytesIO(bytes(raw)), LocalBlobStore(tmp_path / "t"))
    assert caught.value.chunk_id == chunk_ids(manifest)[-1]
    assert caught.value.entry == "files/b"


def test_damaged_manifest_in_package(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    raw = bytearray(export(store, "pkg"))
    raw[30] ^= 0x01
    with pytest.raises((ManifestCorrupt, PackageCorrupt)):
        import_archive(io.BytesIO(bytes(raw)), LocalBlobStore(tmp_path / "t"))


@pytest.mark.parametrize("cut", [4, 20, 200, -10, -1])
def test_truncated_package(store: LocalBlobStore, tmp_path: Path, cut: int) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    with pytest.raises((PackageCorrupt, ManifestCorrupt)):
        import_archive(io.BytesIO(raw[:cut]), LocalBlobStore(tmp_path / "t"))


def test_bad_magic_and_version(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    with pytest.raises(PackageCorrupt, match="magic"):
        import_archive(io.BytesIO(b"PK" + raw[2:]), LocalBlobStore(tmp_path / "t"))
    with pytest.raises(PackageCorrupt, match="version"):
        import_archive(io.BytesIO(raw[:8] + b"\x00\x09" + raw[10:]), LocalBlobStore(tmp_path / "t"))
    with pytest.raises(PackageCorrupt, match="flags"):
        import_archive(io.BytesIO(raw[:11] + b"\x01" + raw[12:]), LocalBlobStore(tmp_path / "t"))


def test_foreign_chunk_is_refused(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    other = write_archive(store, {"z": b"unrelated"}, "other")
    raw = export(store, "pkg")
    foreign = export(store, "other")
    frame = foreign[-36 - 36 - len(b"unrelated") - 1 : -36]
    assert frame[:32].hex() == chunk_ids(other)[0]
    with pytest.raises(PackageCorrupt, match="does not use"):
        import_archive(io.BytesIO(raw[:-36] + frame + raw[-36:]), LocalBlobStore(tmp_path / "t"))
