from __future__ import annotations

import datetime as dt
import io
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from envclone.archive import (
    ArchiveReader,
    ChunkCorrupt,
    ChunkMissing,
    Manifest,
    ManifestCorrupt,
    PackageCorrupt,
    chunk_ids,
    chunks_of,
    export_archive,
    import_archive,
    load_manifest,
    missing_for,
    package,
    read_package_manifest,
    verify_package,
)
from envclone.archive.package import MAGIC, package_size
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


def _members(raw: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(raw)).infolist()


def _data_span(raw: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    start = info.header_offset + 30 + len(info.filename.encode())
    return start, start + info.file_size


def rebuild(raw: bytes, change: Callable[[list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]) -> bytes:
    """The package with its members changed by ``change``, laid out as export_archive lays out a
    package (valid headers, central directory and end record): only the content is wrong."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        members = [(i.filename.encode(), zf.read(i)) for i in zf.infolist()]
        dos = package._dos(dt.datetime(*zf.infolist()[1].date_time))
    layout, out = package._Zip(), bytearray()
    for name, data in change(members):
        when = package._MARKER_DOS if name == package.MARKER_NAME else dos
        out += layout.local(name, zlib.crc32(data), len(data), when) + data
    for piece in layout.trailer():
        out += piece
    return bytes(out)


def test_a_package_is_a_zip_file(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store, "pkg")
    raw = export(store, "pkg")
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[:2] == ["envclone-package", "manifest"]
        assert zf.read("envclone-package") == b"envclone archive package, format 2\n"
        assert Manifest.from_blob(zf.read("manifest")) == manifest
        assert sorted(names[2:]) == sorted(f"chunks/{cid}" for cid in chunk_ids(manifest))
        assert all(i.compress_type == zipfile.ZIP_STORED and not i.flag_bits for i in zf.infolist())
        for cid in chunk_ids(manifest):
            assert zf.read(f"chunks/{cid}") == chunks_of(store).get(cid)
    assert package_size(store, manifest) == len(raw)
    if shutil.which("unzip"):
        (tmp_path / "p.zip").write_bytes(raw)
        done = subprocess.run(["unzip", "-t", str(tmp_path / "p.zip")], capture_output=True, text=True)
        assert done.returncode == 0 and "No errors detected" in done.stdout, done.stdout + done.stderr


def test_export_writes_front_to_back(store: LocalBlobStore) -> None:
    """No seek, no tell: a pipe or an HTTP response will do."""

    class Pipe:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, data: bytes) -> int:
            self.data += data
            return len(data)

    sample(store, "pkg")
    pipe = Pipe()
    export_archive(store, "pkg", cast(BinaryIO, pipe))
    assert bytes(pipe.data) == export(store, "pkg")


def test_zip64_records(store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packages past 2 GiB or 65535 members get ZIP64 records; the limits are lowered here so that
    a small package has them: standard readers and import still agree."""
    manifest = sample(store, "pkg")
    monkeypatch.setattr(package, "ZIP64_LIMIT", 1000)
    monkeypatch.setattr(package, "COUNT_LIMIT", 3)
    raw = export(store, "pkg")
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
    assert package_size(store, manifest) == len(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.testzip() is None and len(zf.namelist()) == 2 + len(chunk_ids(manifest))
    if shutil.which("unzip"):
        (tmp_path / "p.zip").write_bytes(raw)
        done = subprocess.run(["unzip", "-t", str(tmp_path / "p.zip")], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    assert import_archive(io.BytesIO(raw), LocalBlobStore(tmp_path / "t")) == manifest


def test_damaged_chunk_is_named(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = write_archive(store, {"b": b"hello " * 5000}, "pkg")
    raw = bytearray(export(store, "pkg"))
    last = _members(bytes(raw))[-1]
    raw[_data_span(bytes(raw), last)[1] - 1] ^= 0x01
    with pytest.raises(ChunkCorrupt) as caught:
        import_archive(io.BytesIO(bytes(raw)), LocalBlobStore(tmp_path / "t"))
    assert caught.value.chunk_id == chunk_ids(manifest)[-1] == last.filename.removeprefix("chunks/")
    assert caught.value.entry == "files/b"


def test_damaged_manifest_in_package(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    raw = bytearray(export(store, "pkg"))
    start, end = _data_span(bytes(raw), _members(bytes(raw))[1])
    raw[(start + end) // 2] ^= 0x01
    with pytest.raises(ManifestCorrupt):
        import_archive(io.BytesIO(bytes(raw)), LocalBlobStore(tmp_path / "t"))


@pytest.mark.parametrize("cut", [4, 20, 200, -10, -1])
def test_truncated_package(store: LocalBlobStore, tmp_path: Path, cut: int) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    with pytest.raises((PackageCorrupt, ManifestCorrupt)):
        import_archive(io.BytesIO(raw[:cut]), LocalBlobStore(tmp_path / "t"))


def test_structure_is_checked_to_the_last_byte(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    target = LocalBlobStore(tmp_path / "t")
    with pytest.raises(PackageCorrupt, match="after its end record"):
        import_archive(io.BytesIO(raw + b"\0"), target)
    central = raw.rindex(b"PK\x01\x02")  # the last central directory record
    for at in (central + 8, central + 38, len(raw) - 10):  # flags, external attributes, end record
        damaged = bytearray(raw)
        damaged[at] ^= 0x01
        with pytest.raises(PackageCorrupt, match="central directory"):
            import_archive(io.BytesIO(bytes(damaged)), target)
    first_chunk = _members(raw)[2].header_offset
    for at, match in ((6, "flags"), (8, "compression"), (28, "header")):  # flags, method, extra length
        damaged = bytearray(raw)
        damaged[first_chunk + at] ^= 0x01
        with pytest.raises(PackageCorrupt, match=match):
            import_archive(io.BytesIO(bytes(damaged)), target)
    assert list(target.list("manifests/")) == []


def test_bad_magic_and_version(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    target = LocalBlobStore(tmp_path / "t")
    with pytest.raises(PackageCorrupt, match="magic"):
        import_archive(io.BytesIO(b"PK\x03\x04" + bytes(40)), target)
    with pytest.raises(PackageCorrupt, match="magic"):
        import_archive(io.BytesIO(raw[:30] + b"x" + raw[31:]), target)
    newer = raw.replace(b"format 2\n", b"format 9\n", 1)
    with pytest.raises(PackageCorrupt, match="version '9'"):
        import_archive(io.BytesIO(newer), target)
    with pytest.raises(PackageCorrupt, match="flags"):
        import_archive(io.BytesIO(raw[:6] + b"\x08" + raw[7:]), target)


def test_foreign_and_duplicate_chunks_are_refused(store: LocalBlobStore, tmp_path: Path) -> None:
    sample(store, "pkg")
    other = write_archive(store, {"z": b"unrelated"}, "other")
    raw = export(store, "pkg")
    foreign = (f"chunks/{chunk_ids(other)[0]}".encode(), chunks_of(store).get(chunk_ids(other)[0]))
    with pytest.raises(PackageCorrupt, match="does not use"):
        import_archive(io.BytesIO(rebuild(raw, lambda m: [*m, foreign])), LocalBlobStore(tmp_path / "t"))
    with pytest.raises(PackageCorrupt, match="twice"):
        import_archive(io.BytesIO(rebuild(raw, lambda m: [*m, m[-1]])), LocalBlobStore(tmp_path / "t"))
    with pytest.raises(PackageCorrupt, match="not a chunk"):
        import_archive(io.BytesIO(rebuild(raw, lambda m: [*m, (b"readme.txt", b"hi")])), LocalBlobStore(tmp_path / "t"))
    with pytest.raises(PackageCorrupt, match="no manifest"):
        import_archive(io.BytesIO(rebuild(raw, lambda m: [m[0], *m[2:]])), LocalBlobStore(tmp_path / "t"))
    # the same members in another order are still a package
    reordered = rebuild(raw, lambda m: [*m[:2], *reversed(m[2:])])
    assert import_archive(io.BytesIO(reordered), LocalBlobStore(tmp_path / "t")).archive_id == "pkg"


def test_verify_package_stores_nothing(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store, "pkg")
    raw = export(store, "pkg")
    empty = LocalBlobStore(tmp_path / "empty")
    assert verify_package(io.BytesIO(raw), empty) == manifest
    damaged = bytearray(raw)
    damaged[_data_span(raw, _members(raw)[-1])[0]] ^= 0x01
    with pytest.raises(ChunkCorrupt):
        verify_package(io.BytesIO(bytes(damaged)), empty)
    with pytest.raises(ChunkMissing):
        verify_package(io.BytesIO(export(store, "pkg", exclude=chunk_ids(manifest)[:1])), empty)
    assert list(empty.list()) == []


def _format1(store: LocalBlobStore, archive_id: str) -> bytes:
    """A package as envclone wrote them before the ZIP container (format 1)."""
    manifest = load_manifest(store, archive_id)
    blob = manifest.to_blob()
    out = bytearray(package.MAGIC1 + struct.pack(">HH", 1, 0) + struct.pack(">I", len(blob)) + blob)
    for cid in dict.fromkeys(chunk_ids(manifest)):
        stored = chunks_of(store).get(cid)
        out += bytes.fromhex(cid) + struct.pack(">I", len(stored)) + stored
    return bytes(out + bytes(36))


def test_format_1_packages_still_import(store: LocalBlobStore, tmp_path: Path) -> None:
    manifest = sample(store, "pkg")
    raw = _format1(store, "pkg")
    assert package.is_package(raw[:64])
    assert read_package_manifest(io.BytesIO(raw)) == manifest
    assert import_archive(io.BytesIO(raw), LocalBlobStore(tmp_path / "t")) == manifest
    with pytest.raises(PackageCorrupt, match="after its end frame"):
        import_archive(io.BytesIO(raw + b"x"), LocalBlobStore(tmp_path / "u"))
    with pytest.raises(PackageCorrupt, match="version"):
        import_archive(io.BytesIO(raw[:8] + b"\x00\x09" + raw[10:]), LocalBlobStore(tmp_path / "u"))


def test_is_package(store: LocalBlobStore) -> None:
    sample(store, "pkg")
    raw = export(store, "pkg")
    assert package.is_package(raw[:64]) and raw.startswith(MAGIC)
    assert not package.is_package(b"PK\x03\x04 not an envclone snapshot")
    assert not package.is_package(b"a,b\n1,2\n")
