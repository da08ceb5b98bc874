from __future__ import annotations

import pytest

from envclone.archive.compress import TAG_NONE, TAG_ZSTD, compression, decode, encode
from envclone.archive.errors import UnknownAlgorithm

from .conftest import pseudo_random


def test_compressible_data_is_zstd_and_round_trips() -> None:
    data = b"abc" * 10_000
    blob = encode(data, compression("zstd-3"))
    assert blob[0] == TAG_ZSTD
    assert len(blob) < len(data) // 10
    assert decode(blob, len(data)) == data


def test_incompressible_data_is_stored_raw() -> None:
    data = pseudo_random(4096)
    blob = encode(data, compression("zstd-3"))
    assert blob[0] == TAG_NONE
    assert decode(blob, len(data)) == data


def test_none_codec_and_empty_chunk() -> None:
    assert decode(encode(b"", compression("none")), 0) == b""
    assert encode(b"aaaa", compression("none"))[0] == TAG_NONE


@pytest.mark.parametrize(
    ("blob", "size"),
    [(b"", 1), (b"\x07abc", 3), (b"\x00abc", 4), (b"\x01not zstd", 8)],
)
def test_damage_is_a_value_error(blob: bytes, size: int) -> None:
    with pytest.raises(ValueError):
        decode(blob, size)


def test_wrong_size_after_decompression() -> None:
    blob = encode(b"abc" * 1000, compression("zstd-3"))
    with pytest.raises(ValueError):
        decode(blob, 2999)


def test_unknown_compression() -> None:
    with pytest.raises(UnknownAlgorithm):
        compression("lz4")
