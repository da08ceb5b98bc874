"""Content-defined chunking (FastCDC 2020, via pyfastcdc's compiled build) with named parameter
sets, so a manifest records how it was cut. Cuts streams in bounded memory; never stores anything."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pyfastcdc

from envclone.archive.errors import ChunkerUnavailable, UnknownAlgorithm

DEFAULT_CHUNKER = "fastcdc2020-1m"
# Records (rows, bundles of small files): a change to one row or file re-sends ~5 KiB, not ~1 MiB.
DEFAULT_RECORDS_CHUNKER = "fastcdc2020-4k"

# pyfastcdc falls back, with only a warning, to a pure-Python build ~100x slower when its Cython
# extension is missing. Know which one we got, and refuse the slow one unless asked for it.
COMPILED = pyfastcdc.FastCDC.__module__.startswith("pyfastcdc.cy.")
ALLOW_SLOW_ENV = "ENVCLONE_ALLOW_SLOW_CHUNKER"

if not COMPILED:
    warnings.warn(
        "pyfastcdc's compiled extension is not available: archives cannot be written "
        f"(set {ALLOW_SLOW_ENV}=1 to accept the pure-Python chunker)",
        RuntimeWarning,
        stacklevel=2,
    )


@dataclass(frozen=True)
class ChunkerSpec:
    """FastCDC parameters. pyfastcdc's mean chunk size is about ``avg_size + min_size``."""

    name: str
    min_size: int
    avg_size: int
    max_size: int
    normalization: int = 1

    def as_dict(self) -> dict[str, int | str]:
        return {
            "name": self.name,
            "min_size": self.min_size,
            "avg_size": self.avg_size,
            "max_size": self.max_size,
            "normalization": self.normalization,
        }


_K = 1024
CHUNKERS: dict[str, ChunkerSpec] = {
    c.name: c
    for c in (
        ChunkerSpec("fastcdc2020-1m", 256 * _K, 1024 * _K, 4096 * _K),
        ChunkerSpec("fastcdc2020-64k", 16 * _K, 64 * _K, 256 * _K),
        ChunkerSpec("fastcdc2020-4k", 1 * _K, 4 * _K, 16 * _K),
    )
}


def chunker_spec(name: str) -> ChunkerSpec:
    try:
        return CHUNKERS[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown chunker {name!r}") from None


def require_compiled(allow_slow: bool = False) -> None:
    if not COMPILED and not (allow_slow or os.environ.get(ALLOW_SLOW_ENV) == "1"):
        raise ChunkerUnavailable()


class Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


class IterReader:
    """Presents an iterable of byte strings as a ``readinto`` stream, copying each piece once."""

    def __init__(self, pieces: Iterable[bytes | bytearray | memoryview]) -> None:
        self._source = pieces
        self._pieces = iter(pieces)
        self._current = memoryview(b"")
        self.total = 0

    def whole(self) -> bytes | None:
        """The stream's content without copying, when it is one ``bytes`` given as a tuple or list
        and nothing was read yet; else None (read it)."""
        source = self._source
        if self.total == 0 and isinstance(source, tuple | list) and len(source) == 1 and type(source[0]) is bytes:
            self._pieces = iter(())
            return source[0]
        return None

    def readinto(self, buffer: memoryview, /) -> int:
        while not self._current:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._current = memoryview(piece).cast("B")
        n = min(len(buffer), len(self._current))
        buffer[:n] = self._current[:n]
        self._current = self._current[n:]
        self.total += n
        return n


class Chunker:
    """Cuts byte streams at content-defined boundaries. One instance per thread: pyfastcdc's
    chunker is not safe for concurrent use.

    The stream is read into blocks of twice the maximum chunk size, each a new buffer, and each
    block is cut whole. FastCDC decides a cut from the chunk's own bytes, so every chunk that ends
    before the block does is where cutting the whole stream would put it; only a block's last
    chunk may have been cut short by the block's end, so it is cut again at the next block's start.
    Chunks are views into blocks that are never reused: a consumer may keep them without a copy."""

    def __init__(self, spec: ChunkerSpec, *, allow_slow: bool = False) -> None:
        require_compiled(allow_slow)
        self.spec = spec
        self._cdc = pyfastcdc.FastCDC(
            spec.avg_size,
            min_size=spec.min_size,
            max_size=spec.max_size,
            normalized_chunking=spec.normalization,  # type: ignore[arg-type]
        )
        self._block = 2 * spec.max_size

    def cut(self, stream: Readable) -> Iterator[memoryview]:
        """Yield chunks of ``stream``, each a view that stays valid (its buffer is not reused). An
        ``IterReader`` of one ``bytes`` is cut in place, without a copy."""
        whole = stream.whole() if isinstance(stream, IterReader) else None
        if whole is not None:
            for chunk in self._cdc.cut_buf(memoryview(whole)):
                yield chunk.data
            return
        carry = memoryview(b"")
        while True:
            block = bytearray(self._block)
            view = memoryview(block)
            filled = len(carry)
            view[:filled] = carry
            while filled < len(block) and (n := stream.readinto(view[filled:])):
                filled += n
            if filled < len(block):  # the stream's end
                for chunk in self._cdc.cut_buf(view[:filled]):
                    yield chunk.data
                return
            last = None
            for chunk in self._cdc.cut_buf(view):
                if last is not None:
                    yield last
                last = chunk.data
            carry = last if last is not None else memoryview(b"")

    def cut_pieces(self, pieces: Iterable[bytes | bytearray | memoryview]) -> Iterator[memoryview]:
        return self.cut(IterReader(pieces))
