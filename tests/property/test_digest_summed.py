"""The digest a backup sums while it exports a component's tables (one pass over the rows) equals a
full recomputation (``compute_component``) after any random inserts, updates and deletes, on
SQLite and PostgreSQL: files (plain columns, whose JSON lines are hashed as they are) and records
(JSON columns, hashed in canonical form). An export stopped before a table's end gives no digest.
The one-encoder-per-process JSON writer gives json.dumps's text."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from envclone.content.bundle import is_bundle
from envclone.content.digest import ComponentSums, compute_component
from envclone.content.export import BLOB_PREFIX, export_component
from envclone.content.rows import line_encoder
from envclone.domain.components import Component
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.repository import TableRepository
from tests.builders import make_context
from tests.conftest import BACKENDS, database_url

_files = TableRepository(tables.files)
_records = TableRepository(tables.records, label="record")


@pytest.fixture(scope="module", params=BACKENDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    root = tmp_path_factory.mktemp(f"summed-{request.param}")
    context = make_context(root, database_url=database_url(request.param, root, request))
    yield context
    context.db.dispose()


printable = st.characters(blacklist_categories=("Cs", "Cc"))  # PostgreSQL stores no NUL
text = st.text(printable, min_size=1, max_size=12)
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1))
hashes = st.binary(min_size=32, max_size=32).map(bytes.hex)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(printable, max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(printable, max_size=4), inner, max_size=3),
    max_leaves=6,
)
file_rows = st.fixed_dictionaries(
    {
        "area": st.sampled_from(["inbox", "outbox", "snapshots"]),
        "name": text,
        "size": st.integers(0, 2**40),
        "hash": hashes,
        "modified": times,
    }
)
record_rows = st.fixed_dictionaries(
    {
        "ts": times,
        "actor": text,
        "action": text,
        "subject": st.text(printable, max_size=8),
        "status": st.sampled_from(["", "ok", "failed"]),
        "details": st.dictionaries(st.text(printable, max_size=5), json_values, max_size=4),
    }
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("file"), file_rows),
        st.tuples(st.just("record"), record_rows),
        st.tuples(st.sampled_from(["update", "delete"]), st.integers(0, 1000), file_rows | record_rows),
    ),
    max_size=25,
)


def _apply(conn: sa.Connection, step: tuple[Any, ...]) -> None:
    if step[0] == "file":
        key = {"area": step[1]["area"], "name": step[1]["name"]}
        if _files.find(conn, key) is None:
            _files.insert(conn, step[1])
        return
    if step[0] == "record":
        _records.insert(conn, {**step[1], "component": Component.JOB_CONSOLE.value})
        return
    how, pick, values = step
    if "area" in values:
        rows = sorted(_files.stream(conn), key=lambda r: (r["area"], r["name"]))
        if rows:
            row = rows[pick % len(rows)]
            key = {"area": row["area"], "name": row["name"]}
            if how == "delete":
                _files.delete(conn, key)
            else:
                changes = {column: values[column] for column in ("size", "hash", "modified")}
                _files.update(conn, key, changes)
    else:
        rows = sorted(_records.stream(conn), key=lambda r: r["seq"])
        if rows:
            seq = rows[pick % len(rows)]["seq"]
            if how == "delete":
                _records.delete(conn, {"seq": seq})
            else:
                _records.update(conn, {"seq": seq}, {"details": values["details"], "ts": values["ts"]})


def _summed(ctx: ServiceContext, conn: sa.Connection, component: Component) -> str | None:
    """Export ``component`` as a backup does, reading every table entry to its end."""
    sums = ComponentSums(component)
    for entry in export_component(conn, ctx.blobs, component, sums):
        if not (entry.name.startswith(BLOB_PREFIX) or is_bundle(entry.name)):
            for _ in entry.open():
                pass
    return sums.digest()


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(script=steps)
def test_summed_digest_equals_a_full_recomputation(ctx: ServiceContext, script: list[tuple[Any, ...]]) -> None:
    with ctx.db.begin() as conn:
        for step in script:
            _apply(conn, step)
    with ctx.db.snapshot() as conn:
        for component in (Component.FILES, Component.JOB_CONSOLE, Component.USERS, Component.SETTINGS):
            assert _summed(ctx, conn, component) == compute_component(conn, component)


def test_an_export_read_in_part_gives_no_digest(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    when = dt.datetime(2026, 1, 1)
    try:
        with ctx.db.begin() as conn:
            names = range(3000)  # more than one block of lines
            rows = [{"area": "inbox", "name": f"f{i}", "size": i, "hash": f"{i:064x}", "modified": when} for i in names]
            _files.insert_many(conn, rows)
        with ctx.db.snapshot() as conn:
            sums = ComponentSums(Component.FILES)
            entry = next(iter(export_component(conn, ctx.blobs, Component.FILES, sums)))
            next(iter(entry.open()))  # the header only
            assert sums.digest() is None
            for _ in entry.open():  # opened again: read in full, but summed by the first reader only
                pass
            assert sums.digest() is None
    finally:
        ctx.db.dispose()


@given(value=st.lists(json_values | st.floats() | times | st.text(), max_size=6) | json_values | st.text())
def test_line_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    def default(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.isoformat(timespec="microseconds")
        raise TypeError(type(v).__name__)

    for sort_keys in (False, True):
        expected = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
        assert line_encoder(default, sort_keys=sort_keys)(value) == expected
