"""Fixtures shared by the duplication tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from envclone.services import storage_service
from envclone.services.context import ServiceContext
from tests.unit.duplicate._content import ADMIN, environment, seed


@pytest.fixture
def pair(tmp_path: Path) -> tuple[ServiceContext, ServiceContext]:
    """Two in-process environments sharing one storage service folder; the source is seeded."""
    shared = tmp_path / "shared"
    shared.mkdir()
    source, target = environment(tmp_path / "a"), environment(tmp_path / "b")
    for ctx in (source, target):
        storage_service.update(ctx, ADMIN, {"type": "file_system", "location": str(shared)})
    seed(source)
    return source, target
