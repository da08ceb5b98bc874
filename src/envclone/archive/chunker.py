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
        self._pieces = iter(pieces)
        self._current = memoryview(b"")
        self.total = 0

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


class _Prefixed:
    """A stream that first replays bytes already read from another stream."""

    def __init__(self, head: memoryview, rest: Readable) -> None:
        self._head = head
        self._rest = rest

    def readinto(self, buffer: memoryview, /) -> int:
        if not self._head:
            return self._rest.readinto(buffer) or 0
        n = min(len(buffer), len(self._head))
        buffer[:n] = self._head[:n]
        self._head = self._head[n:]
        return n


class Chunker:
    """Cuts byte streams at content-defined boundaries. One instance per thread: pyfastcdc's
    chunker is not safe for concurrent use."""

    def __init__(self, spec: ChunkerSpec, *, allow_slow: bool = False) -> None:
        require_compiled(allow_slow)
        self.spec = spec
        self._cdc = pyfastcdc.FastCDC(
            spec.avg_size,
            min_size=spec.min_size,
            max_size=spec.max_size,
            normalized_chunking=spec.normalization,  # type: ignore[arg-type]
        )
        self._head = bytearray(spec.max_size + 1)  # reused: views into it live until the next chunk

    def cut(self, stream: Readable) -> Iterator[memoryview]:
        """Yield chunks of ``stream``. Each view is valid only until the next one is requested."""
        # pyfastcdc's stream cutter allocates a buffer of twice the maximum chunk size per call,
        # which dominates for small entries; an input that fits in one maximum chunk is cut whole.
        head = self._head
        filled = 0
        while filled < len(head) and (n := stream.readinto(memoryview(head)[filled:])):
            filled += n
        if filled < len(head):
            for chunk in self._cdc.cut_buf(memoryview(head)[:filled]):
                yield chunk.data
            return
        for chunk in self._cdc.cut_stream(_Prefixed(memoryview(head), stream)):
            yield chunk.data

    def cut_pieces(self, pieces: Iterable[bytes | bytearray | memoryview]) -> Iterator[memoryview]:
        return self.cut(IterReader(pieces))
