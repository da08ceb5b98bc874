"""The ``chunk_layout`` setting at start-up: a server asked for packs moves its blob store to pack
files for good; one asked for blobs leaves its store as it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envclone.archive import BlobChunkStore, PackChunkStore, chunks_of, set_default_layout
from envclone.archive.layout import default_layout
from envclone.archive.packs import LAYOUT_KEY
from envclone.blobs import LocalBlobStore
from envclone.server import build_context
from envclone.settings import load_settings


@pytest.fixture(autouse=True)
def keep_default() -> Iterator[None]:
    """A server sets the process's default layout: put back what the test run uses."""
    before = default_layout()
    yield
    set_default_layout(before)


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
    # Other stores the server opens (a job's repository) stay one blob per chunk too.
    assert type(chunks_of(LocalBlobStore(tmp_path / "repository"))) is BlobChunkStore


def test_packs_are_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVCLONE_CHUNK_LAYOUT", raising=False)
    ctx, _ = build_context(load_settings(data_dir=tmp_path, admin_password="pw-123456", scheduler=False))
    try:
        assert type(chunks_of(ctx.blobs)) is PackChunkStore
        assert LocalBlobStore(tmp_path / "blobs").exists(LAYOUT_KEY)
    finally:
        ctx.engine.shutdown()
