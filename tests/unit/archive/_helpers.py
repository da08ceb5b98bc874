"""Small archives for the archive tests, and ways to damage them."""

from __future__ import annotations

from envclone.archive import ArchiveWriter, Manifest
from envclone.blobs import LocalBlobStore
from tests.chunk_damage import flip_bit

from .conftest import pseudo_random

SMALL = "fastcdc2020-4k"


def write_archive(store: LocalBlobStore, entries: dict[str, bytes], archive_id: str | None = None) -> Manifest:
    with ArchiveWriter(store, chunker=SMALL, archive_id=archive_id, source={"name": "t"}) as writer:
        for name, data in entries.items():
            writer.add_bytes("files", name, data)
        return writer.finish()


def sample(store: LocalBlobStore, archive_id: str | None = None) -> Manifest:
    return write_archive(store, {"a": pseudo_random(40_000, b"a"), "b": b"hello " * 5000}, archive_id)


def flip_byte(store: LocalBlobStore, chunk: str, offset: int = -1) -> None:
    flip_bit(store, chunk, offset)
