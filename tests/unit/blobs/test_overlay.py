"""The overlay a dry run writes through: blobs of the base are read through it, and whatever is
put, written or deleted through it leaves the base exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.blobs import LocalBlobStore
from envclone.blobs.overlay import OverlayBlobStore
from envclone.errors import NotFound


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_reads_fall_through_and_writes_never_reach_the_base(tmp_path: Path) -> None:
    base = LocalBlobStore(tmp_path / "base")
    base.put("chunks/aa/kept", b"base")
    base.put("chunks/aa/shadowed", b"base")
    before = files(tmp_path / "base")
    overlay = OverlayBlobStore(base, LocalBlobStore(tmp_path / "scratch"))

    assert overlay.get("chunks/aa/kept") == b"base" and overlay.size("chunks/aa/kept") == 4
    overlay.put("chunks/aa/shadowed", b"scratch!")
    overlay.put("chunks/bb/new", b"new", sync=False)
    writer = overlay.writer()
    writer.write(b"streamed")
    writer.commit("manifests/m")
    overlay.delete("chunks/aa/kept")

    assert overlay.get("chunks/aa/shadowed") == b"scratch!" and b"".join(overlay.read("chunks/bb/new")) == b"new"
    assert overlay.get("manifests/m") == b"streamed"
    assert not overlay.exists("chunks/aa/kept")
    with pytest.raises(NotFound):
        overlay.get("chunks/aa/kept")
    assert sorted(overlay.list("chunks/")) == ["chunks/aa/shadowed", "chunks/bb/new"]
    assert files(tmp_path / "base") == before
    assert base.get("chunks/aa/kept") == b"base"
