"""A batch of chunks (POST /v1/transfer/chunks) round-trips through its codec, and a cut batch is
refused as malformed unless the cut falls between two chunks: then it reads as the chunks before
it, never as other chunks (the sender checks how many were received)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envclone.domain.transfer import MAX_BATCH_CHUNKS, decode_chunks, encode_chunks

chunk = st.tuples(st.binary(min_size=32, max_size=32).map(bytes.hex), st.integers(0, 2**40), st.binary(max_size=300))


@settings(max_examples=60, deadline=None)
@given(items=st.lists(chunk, max_size=20), cut=st.integers(1, 10_000))
def test_a_batch_round_trips_and_a_cut_one_is_refused(items: list[tuple[str, int, bytes]], cut: int) -> None:
    body = encode_chunks(items)
    assert decode_chunks(body) == items
    if body:
        kept = body[: len(body) - 1 - cut % len(body)]
        boundaries = {len(encode_chunks(items[:k])): k for k in range(len(items) + 1)}
        if len(kept) in boundaries:
            assert decode_chunks(kept) == items[: boundaries[len(kept)]]
        else:
            with pytest.raises(ValueError, match="ends inside"):
                decode_chunks(kept)


def test_a_batch_holds_a_bounded_number_of_chunks() -> None:
    with pytest.raises(ValueError, match="at most"):
        decode_chunks(encode_chunks([("ab" * 32, 0, b"")] * (MAX_BATCH_CHUNKS + 1)))
