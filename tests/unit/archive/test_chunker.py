from __future__ import annotations

import io

import pyfastcdc
import pytest

from envclone.archive import chunker as chunker_mod
from envclone.archive.chunker import CHUNKERS, Chunker, IterReader, chunker_spec, require_compiled
from envclone.archive.errors import ChunkerUnavailable, UnknownAlgorithm

from .conftest import pseudo_random


def test_compiled_build_is_in_use() -> None:
    assert chunker_mod.COMPILED
    assert pyfastcdc.FastCDC.__module__ == "pyfastcdc.cy.fastcdc"


def test_slow_build_is_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunker_mod, "COMPILED", False)
    monkeypatch.delenv(chunker_mod.ALLOW_SLOW_ENV, raising=False)
    with pytest.raises(ChunkerUnavailable):
        require_compiled()
    require_compiled(allow_slow=True)
    monkeypatch.setenv(chunker_mod.ALLOW_SLOW_ENV, "1")
    require_compiled()


def test_chunks_cover_input_within_bounds() -> None:
    spec = chunker_spec("fastcdc2020-4k")
    data = pseudo_random(300_000)
    pieces = [bytes(v) for v in Chunker(spec).cut(io.BytesIO(data))]
    assert b"".join(pieces) == data
    assert len(pieces) > 10
    assert all(len(p) <= spec.max_size for p in pieces)
    assert all(len(p) >= spec.min_size for p in pieces[:-1])


def test_cutting_is_independent_of_how_input_is_split() -> None:
    spec = chunker_spec("fastcdc2020-4k")
    data = pseudo_random(100_000)
    whole = [bytes(v) for v in Chunker(spec).cut_pieces([data])]
    split = [bytes(v) for v in Chunker(spec).cut_pieces(data[i : i + 777] for i in range(0, len(data), 777))]
    assert whole == split


def test_iter_reader_counts_and_handles_empty_pieces() -> None:
    reader = IterReader([b"", b"abc", memoryview(b"de"), bytearray(b""), b"f"])
    buf = bytearray(4)
    out = b""
    while n := reader.readinto(memoryview(buf)):
        out += bytes(buf[:n])
    assert out == b"abcdef"
    assert reader.total == 6


def test_registry() -> None:
    assert "fastcdc2020-1m" in CHUNKERS
    assert chunker_spec("fastcdc2020-1m").as_dict()["avg_size"] == 1024 * 1024
    with pytest.raises(UnknownAlgorithm):
        chunker_spec("rabin")


@pytest.mark.parametrize("size", [0, 1, 16 * 1024, 16 * 1024 + 1, 200_000])
def test_same_cuts_as_pyfastcdc_on_the_whole_buffer(size: int) -> None:
    spec = chunker_spec("fastcdc2020-4k")
    data = pseudo_random(size)
    reference = pyfastcdc.FastCDC(spec.avg_size, min_size=spec.min_size, max_size=spec.max_size)
    expected = [bytes(c.data) for c in reference.cut_buf(data)]
    chunker = Chunker(spec)
    assert [bytes(v) for v in chunker.cut(io.BytesIO(data))] == expected
    assert [bytes(v) for v in chunker.cut_pieces([data[:5], data[5:]])] == expected  # buffer reuse


@pytest.mark.parametrize("size", [32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 3 * 32 * 1024, 1_000_003])
@pytest.mark.parametrize("kind", ["random", "zeros", "mixed"])
def test_block_cutting_matches_pyfastcdc_at_every_block_edge(size: int, kind: str) -> None:
    """The stream is cut in blocks of twice the maximum chunk (32 KiB here): inputs ending on,
    just before and just after a block's end, and runs of zeros (every chunk forced to the maximum,
    so a block ends exactly on a cut), give pyfastcdc's chunks of the whole buffer."""
    spec = chunker_spec("fastcdc2020-4k")
    data = {
        "random": lambda: pseudo_random(size),
        "zeros": lambda: bytes(size),
        "mixed": lambda: (pseudo_random(5000) + bytes(40_000)) * (size // 45_000) + pseudo_random(size % 45_000),
    }[kind]()
    reference = pyfastcdc.FastCDC(spec.avg_size, min_size=spec.min_size, max_size=spec.max_size)
    expected = [bytes(c.data) for c in reference.cut_buf(data)]
    views = list(Chunker(spec).cut(io.BytesIO(data)))  # kept: a view stays valid after the next
    assert [bytes(v) for v in views] == expected
    assert [
        bytes(v) for v in Chunker(spec).cut_pieces(data[i : i + 4099] for i in range(0, len(data), 4099))
    ] == expected
    assert [bytes(v) for v in Chunker(spec).cut_pieces([data])] == expected  # one bytes: cut in place
