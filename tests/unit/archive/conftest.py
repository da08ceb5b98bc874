"""Fixtures for the archive tests: a local blob store in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.blobs import LocalBlobStore


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def pseudo_random(n: int, seed: bytes = b"seed") -> bytes:
    import blake3

    return bytes(blake3.blake3(seed).digest(length=n))
