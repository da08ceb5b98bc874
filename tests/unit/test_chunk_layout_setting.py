"""The ``chunk_layout`` setting at start-up: a server asked for packs moves its blob store to pack
files for good; one asked for blobs leaves its store as it is."""

from __future__ import annotations

from pathlib import Path

from envclone.archive import BlobChunkStore, PackChunkStore, chunks_of
from envclone.archive.packs import LAYOUT_KEY
from envclone.blobs import LocalBlobStore
from envclone.server import build_context
from envclone.settings import load_settings


def start(data_dir: Path, layout: str) -> type:
    ctx, _ = build_context(
        load_settings(data_dir=data_dir, admin_password="pw-123456", scheduler=False, chunk_layout=layout)
    )
    try:
        return type(chunks_of(ctx.blobs))
    finally:
        ctx.engine.shutdown()


def test_packs_are_for_good(tmp_path: Path) -> None:
    assert start(tmp_path, "packs") is PackChunkStore
    assert LocalBlobStore(tmp_path / "blobs").exists(LAYOUT_KEY)
    assert start(tmp_path, "blobs") is PackChunkStore  # its chunks are in packs now


def test_blobs_leave_a_store_as_it_is(tmp_path: Path) -> None:
    assert start(tmp_path, "blobs") is BlobChunkStore
    assert not LocalBlobStore(tmp_path / "blobs").exists(LAYOUT_KEY)
