"""Chunk blob encoding: one tag byte naming the codec, then the payload. Compressions are looked up
by the name a manifest stores; the tag lets any reader decode a chunk whoever wrote it first."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zstandard

from envclone.archive.errors import UnknownAlgorithm

DEFAULT_COMPRESSION = "zstd-3"

TAG_NONE = 0
TAG_ZSTD = 1

_local = threading.local()


def _zstd_compressor(level: int) -> zstandard.ZstdCompressor:
    # zstandard objects must not be shared between threads: one per thread and level.
    cache: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = _local.compressors = {}
    if level not in cache:
        cache[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return cache[level]


def _zstd_decompressor() -> zstandard.ZstdDecompressor:
    dctx: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if dctx is None:
        dctx = _local.decompressor = zstandard.ZstdDecompressor()
    return dctx


@dataclass(frozen=True)
class Compression:
    """A named codec choice for new chunks; ``level`` is ignored by ``none``."""

    name: str
    tag: int
    level: int = 0


COMPRESSIONS: dict[str, Compression] = {
    c.name: c
    for c in (
        Compression("none", TAG_NONE),
        Compression("zstd-1", TAG_ZSTD, 1),
        Compression("zstd-3", TAG_ZSTD, 3),
        Compression("zstd-9", TAG_ZSTD, 9),
        Compression("zstd-19", TAG_ZSTD, 19),
    )
}


def compression(name: str) -> Compression:
    try:
        return COMPRESSIONS[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown compression {name!r}") from None


def encode(data: bytes | memoryview, codec: Compression) -> bytes:
    """Encode a chunk for storage; data that does not shrink is stored as is."""
    if codec.tag == TAG_ZSTD:
        packed = _zstd_compressor(codec.level).compress(data)
        if len(packed) < len(data):
            return bytes((TAG_ZSTD,)) + packed
    return bytes((TAG_NONE,)) + bytes(data)


def decode(blob: bytes, expected_size: int) -> bytes:
    """Decode a stored chunk. Raises ``ValueError`` on any damage it can see (the caller knows which
    chunk it was and raises the named error); the content hash is checked by the caller."""
    if not blob:
        raise ValueError("empty chunk blob")
    tag, payload = blob[0], memoryview(blob)[1:]
    if tag == TAG_NONE:
        data = bytes(payload)
    elif tag == TAG_ZSTD:
        try:
            data = _zstd_decompressor().decompress(payload, max_output_size=max(expected_size, 1))
        except zstandard.ZstdError as exc:
            raise ValueError(f"zstd: {exc}") from None
    else:
        raise ValueError(f"unknown chunk codec tag {tag}")
    if len(data) != expected_size:
        raise ValueError(f"size {len(data)} != expected {expected_size}")
    return data
