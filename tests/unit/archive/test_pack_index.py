"""The pack index's parts: the in-memory table of chunk places and the index blob format."""

from __future__ import annotations

import pytest

from envclone.archive import chunk_id
from envclone.archive.pack_index import (
    DELETED,
    ChunkTable,
    IndexBlob,
    IndexDamaged,
    PackedEntries,
    PackInfo,
    decode_index,
    encode_index,
    is_index_key,
    new_index_key,
)


def raw(n: int) -> bytes:
    return bytes.fromhex(chunk_id(n.to_bytes(4, "big")))


def test_the_table_finds_every_chunk_through_its_growth() -> None:
    table = ChunkTable()
    for n in range(5000):  # past several doublings of its slots
        assert table.set(raw(n), n % 7, n * 10, n + 1) is None
    assert len(table) == 5000
    assert all(table.get(raw(n)) == (n % 7, n * 10, n + 1) for n in range(5000))
    assert table.get(raw(5000)) is None


def test_the_table_reports_what_a_move_or_deletion_replaced() -> None:
    table = ChunkTable()
    table.set(raw(1), 3, 100, 50)
    assert table.set(raw(1), 4, 8, 50) == (3, 50)
    assert table.set(raw(1), DELETED, 0, 0) == (4, 50)
    assert table.get(raw(1)) is None
    assert table.set(raw(1), DELETED, 0, 0) is None  # already gone
    assert list(table.rows()) == []
    assert table.set(raw(1), 5, 8, 50) is None  # back, in the same row
    assert list(table.rows()) == [(raw(1), 5, 8, 50)] and len(table) == 1


def test_index_blobs_round_trip_and_refuse_damage() -> None:
    blob = IndexBlob(True, [PackInfo("ab" * 32, 123, 4567)], [(raw(1), 0, 8, 10), (raw(2), DELETED, 0, 0)])
    data = encode_index(blob)
    assert decode_index(data) == blob
    for damaged in (data[:-1], data[:10] + bytes([data[10] ^ 1]) + data[11:], b"", b"x" * 100):
        with pytest.raises(IndexDamaged):
            decode_index(damaged)


def test_index_keys_sort_in_the_order_they_were_made() -> None:
    made = [new_index_key() for _ in range(50)]
    assert sorted(made) == made and all(is_index_key(key) for key in made)
    assert not is_index_key("index/garbage") and not is_index_key("packs/" + made[0][6:])


def test_packed_entries_encode_as_a_list_of_the_same_rows_does() -> None:
    rows = [(raw(n), n % 3 if n % 5 else DELETED, n * 7, n + 1) for n in range(200)]
    packed = PackedEntries()
    for row in rows:
        packed.append(*row)
    assert len(packed) == 200 and packed[5] == rows[5] and packed[-1] == rows[-1] and packed[2:4] == rows[2:4]
    packs = [PackInfo("ab" * 32, 1, 2), PackInfo("cd" * 32, 3, 4), PackInfo("ef" * 32, 5, 6)]
    blob = encode_index(IndexBlob(False, packs, packed))
    assert blob[:9] + blob[17:-32] == (same := encode_index(IndexBlob(False, packs, rows)))[:9] + same[17:-32]
    decoded = decode_index(blob)
    assert list(decoded.entries) == rows and decoded.entries == rows and decoded.packs == packs
