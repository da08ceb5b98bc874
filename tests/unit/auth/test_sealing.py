"""Secrets sealed at rest: they open only with the same key and for the context they were sealed
for, any change to a sealed value is caught, and a key file is made once, owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envclone.auth.sealing import SealBroken, Sealer
from envclone.errors import ConfigError

KEY = b"k" * 40


@given(st.binary(max_size=2048), st.text(max_size=40))
def test_what_is_sealed_opens_to_itself(plaintext: bytes, context: str) -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(plaintext, context=context)
    assert plaintext == sealer.unseal(sealed, context=context)
    if len(plaintext) >= 8:
        assert plaintext not in sealed


def test_another_context_or_key_does_not_open_it() -> None:
    sealed = Sealer(KEY).seal(b"hunter2-secret", context="operation:a")
    with pytest.raises(SealBroken):
        Sealer(KEY).unseal(sealed, context="operation:b")
    with pytest.raises(SealBroken):
        Sealer(b"x" * 40).unseal(sealed, context="operation:a")


@pytest.mark.parametrize("where", [0, 1, 5, 20, -1])
def test_a_changed_byte_is_caught(where: int) -> None:
    sealed = bytearray(Sealer(KEY).seal(b"hunter2-secret", context="c"))
    sealed[where] ^= 0x01
    with pytest.raises(SealBroken):
        Sealer(KEY).unseal(bytes(sealed), context="c")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigError):
        Sealer(b"short")


def test_the_key_file_is_made_once_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sealing.key"
    sealed = Sealer.from_key_file(path).seal_json({"p": "hunter2-secret"}, context="c")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Sealer.from_key_file(path).unseal_json(sealed, context="c") == {"p": "hunter2-secret"}


def test_an_ephemeral_key_is_this_process_own() -> None:
    sealed = Sealer.ephemeral().seal(b"x", context="c")
    with pytest.raises(SealBroken):
        Sealer.ephemeral().unseal(sealed, context="c")
