"""The blobs of the files component stream in byte order of their hashes on both databases, as
Python sorts them, so small files fall into the same groups (bundles) whichever database served
the backup, and grouping a streamed list holds one group, not the list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from blake3 import blake3

from envclone.content.bundle import groups, stream_groups
from envclone.content.export import blob_rows
from envclone.domain.components import Component
from envclone.store import tables
from tests.builders import make_context
from tests.conftest import BACKENDS, database_url


@pytest.mark.parametrize("backend", BACKENDS)
def test_blob_rows_come_in_byte_order_on_every_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ctx = make_context(tmp_path / "env", database_url=database_url(backend, tmp_path, request))
    hashes = [blake3(str(i).encode()).hexdigest() for i in range(300)]
    rows = [
        {"area": "inbox", "name": f"f{i}", "size": 10 + i, "hash": h, "modified": dt.datetime(2026, 1, 1)}
        for i, h in enumerate(hashes)
    ]
    rows.append({**rows[0], "area": "outbox"})  # the same content twice: listed once
    with ctx.db.begin() as conn:
        conn.execute(tables.files.insert(), rows)
    with ctx.db.read() as conn:
        streamed = list(blob_rows(conn, Component.FILES))
    assert streamed == sorted((h, 10 + i) for i, h in enumerate(hashes))
    assert list(stream_groups(streamed)) == groups(streamed)
    ctx.db.dispose()


def test_stream_groups_refuses_items_out_of_order() -> None:
    with pytest.raises(ValueError, match="ascending"):
        list(stream_groups([("b" * 64, 1), ("a" * 64, 1)]))
