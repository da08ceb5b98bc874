"""Digest properties, in process on SQLite: two environments given the same rows in different orders
(and JSON objects with their keys in different orders) have equal digests, and any single edit (a
changed field, a deleted row, an added row) changes the digest of its component and of the
environment, and of nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from envclone.content.digest import compute_component
from envclone.domain.components import Component
from envclone.domain.principal import Principal
from envclone.services import content_resources, environment, records
from envclone.services import resource as svc
from envclone.services.context import ServiceContext
from envclone.store import tables
from envclone.store.repository import TableRepository
from tests.builders import RECORD_KINDS, make_context

ADMIN = Principal.of("admin", {"Service Administrator"})
PROJECT = "0123456789ABCDEF0123456789ABCDEF"
_users = TableRepository(tables.users)
_records = TableRepository(tables.records, label="record")


@dataclass(frozen=True)
class Pair:
    a: ServiceContext
    b: ServiceContext


def _environment(root: Path) -> ServiceContext:
    ctx = make_context(root, database_url=f"sqlite:///{root / 'envclone.db'}", admin_password="Pr0perty-secret")
    svc.create_item(
        ctx, ADMIN, content_resources.PROJECTS, {"id": PROJECT, "name": "Plan", "description": "", "owner": ""}
    )
    return ctx


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    a = _environment(tmp_path_factory.mktemp("env-a"))
    b = _environment(tmp_path_factory.mktemp("env-b"))
    # The first administrator's password hash has a random salt: give both the same one.
    with a.db.read() as conn:
        hashed = _users.get(conn, {"login": "admin"})["password_hash"]
    with b.db.begin() as conn:
        _users.update(conn, {"login": "admin"}, {"password_hash": hashed})
    yield Pair(a, b)
    a.db.dispose()
    b.db.dispose()


# --- generated content ---------------------------------------------------------------------------
hex_ids = st.uuids().map(lambda u: u.hex.upper())
printable = st.characters(blacklist_categories=("Cs", "Cc"))
names = st.text(printable, min_size=1, max_size=20)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=4)

objects = st.fixed_dictionaries(
    {
        "id": hex_ids,
        "type": st.integers(min_value=-1, max_value=100000),
        "subtype": st.integers(min_value=0, max_value=20),
        "name": names,
        "folder_path": st.sampled_from(["/", "/Library", "/Library/Forms"]),
        "is_schema": st.booleans(),
        "owner": st.sampled_from(["", "admin", "ann"]),
        "definition": json_objects,
        "acl": st.lists(json_objects, max_size=2),
        "translations": st.dictionaries(st.sampled_from(["1033", "1036", "1041"]), json_objects, max_size=2),
    }
)
config_objects = st.fixed_dictionaries(
    {
        "id": hex_ids,
        "type": st.sampled_from([34, 44, 32]),
        "subtype": st.integers(min_value=0, max_value=3),
        "name": names,
        "description": st.text(printable, max_size=10),
        "definition": json_objects,
    }
)
record_items = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(RECORD_KINDS),
        "ts": st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)),
        "actor": st.sampled_from(["admin", "ann", "svc"]),
        "action": names,
        "subject": st.text(printable, max_size=10),
        "status": st.sampled_from(["", "ok", "failed"]),
        "details": json_objects,
    }
)


@dataclass(frozen=True)
class Content:
    objects: list[dict[str, Any]]
    configs: list[dict[str, Any]]
    records: list[dict[str, Any]]


contents = st.builds(
    Content,
    objects=st.lists(objects, max_size=6, unique_by=lambda o: o["id"]),
    configs=st.lists(config_objects, max_size=4, unique_by=lambda c: c["id"]),
    records=st.lists(record_items, max_size=8),  # duplicates allowed: records are a multiset
)


def _reversed_keys(value: Any) -> Any:
    """The same JSON value with every object's keys in the opposite order."""
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


# --- writing and reading -------------------------------------------------------------------------
def _clear(ctx: ServiceContext) -> None:
    with ctx.db.begin() as conn:
        TableRepository(tables.metadata_objects).delete_where(conn, {}, Component.ARTIFACTS)
        TableRepository(tables.config_objects).delete_where(conn, {}, Component.CONFIGURATION)
        for kind in RECORD_KINDS:
            _records.delete_where(conn, {"component": kind}, kind)


def _fill_in_bulk(ctx: ServiceContext, content: Content) -> None:
    svc.create_items(ctx, ADMIN, content_resources.OBJECTS, [dict(o) for o in content.objects], scope=PROJECT)
    svc.create_items(ctx, ADMIN, content_resources.CONFIG_OBJECTS, [dict(c) for c in content.configs])
    for kind in RECORD_KINDS:
        items = [{k: v for k, v in r.items() if k != "kind"} for r in content.records if r["kind"] == kind]
        records.append(ctx, ADMIN, kind, items)


def _fill_one_by_one(ctx: ServiceContext, content: Content) -> None:
    for obj in content.objects:
        svc.create_item(ctx, ADMIN, content_resources.OBJECTS, _reversed_keys(obj), scope=PROJECT)
    for config in content.configs:
        svc.create_item(ctx, ADMIN, content_resources.CONFIG_OBJECTS, _reversed_keys(config))
    for record in content.records:
        item = _reversed_keys({k: v for k, v in record.items() if k != "kind"})
        records.append(ctx, ADMIN, record["kind"], [item])


def _digest(ctx: ServiceContext) -> dict[str, Any]:
    result = environment.digest(ctx, ADMIN)
    with ctx.db.read() as conn:  # the cached digests must equal a fresh computation
        fresh = {c.value: compute_component(conn, c) for c in Component}
    assert result["components"] == fresh
    return result


def _differing(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {c for c in a["components"] if a["components"][c] != b["components"][c]}


# --- single edits --------------------------------------------------------------------------------
def _edit_object(ctx: ServiceContext, content: Content, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["add", "delete", "change"] if content.objects else ["add"]))
    if how == "add":
        taken = {o["id"] for o in content.objects}
        new = data.draw(objects.filter(lambda o: o["id"] not in taken))
        svc.create_item(ctx, ADMIN, content_resources.OBJECTS, new, scope=PROJECT)
        return Component.ARTIFACTS
    victim = data.draw(st.sampled_from(content.objects))
    key = {"project_id": PROJECT, "id": victim["id"]}
    if how == "delete":
        svc.delete_item(ctx, ADMIN, content_resources.OBJECTS, key)
        return Component.ARTIFACTS
    changes = {
        "name": victim["name"] + "x",
        "type": victim["type"] + 1 if victim["type"] < 100000 else 0,
        "subtype": victim["subtype"] + 1,
        "is_schema": not victim["is_schema"],
        "folder_path": victim["folder_path"] + "/Sub",
        "owner": victim["owner"] + "2",
        "definition": {"edited": victim["definition"]},
        "acl": [*victim["acl"], {}],
        "translations": {**victim["translations"], "9999": {}},
    }
    column = data.draw(st.sampled_from(sorted(changes)))
    svc.update_item(ctx, ADMIN, content_resources.OBJECTS, key, {column: changes[column]})
    return Component.ARTIFACTS


def _edit_config(ctx: ServiceContext, content: Content, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["add", "delete", "change"] if content.configs else ["add"]))
    if how == "add":
        taken = {c["id"] for c in content.configs}
        svc.create_item(
            ctx,
            ADMIN,
            content_resources.CONFIG_OBJECTS,
            data.draw(config_objects.filter(lambda c: c["id"] not in taken)),
        )
        return Component.CONFIGURATION
    victim = data.draw(st.sampled_from(content.configs))
    key = {"id": victim["id"]}
    if how == "delete":
        svc.delete_item(ctx, ADMIN, content_resources.CONFIG_OBJECTS, key)
        return Component.CONFIGURATION
    changes = {
        "name": victim["name"] + "x",
        "subtype": victim["subtype"] + 1,
        "description": victim["description"] + "!",
        "definition": {"edited": victim["definition"]},
    }
    column = data.draw(st.sampled_from(sorted(changes)))
    svc.update_item(ctx, ADMIN, content_resources.CONFIG_OBJECTS, key, {column: changes[column]})
    return Component.CONFIGURATION


def _edit_record(ctx: ServiceContext, content: Content, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["add", "delete", "change"] if content.records else ["add"]))
    if how == "add":
        new = data.draw(record_items)
        records.append(ctx, ADMIN, str(new["kind"]), [{k: v for k, v in new.items() if k != "kind"}])
        return str(new["kind"])
    with ctx.db.read() as conn:
        rows = sorted(_records.stream(conn), key=lambda r: r["seq"])
    victim = data.draw(st.sampled_from(rows))
    with ctx.db.begin() as conn:
        if how == "delete":
            _records.delete(conn, {"seq": victim["seq"]})
        else:
            changes = {
                "actor": victim["actor"] + "x",
                "status": victim["status"] + "?",
                "ts": victim["ts"] + dt.timedelta(microseconds=1),
                "details": {"edited": victim["details"]},
            }
            column = data.draw(st.sampled_from(sorted(changes)))
            _records.update(conn, {"seq": victim["seq"]}, {column: changes[column]})
    return str(victim["component"])


EDITS = {"object": _edit_object, "config": _edit_config, "record": _edit_record}


# No shrink phase: each example writes two databases, so shrinking a failure would run into
# Hypothesis's five-minute shrink limit (and pytest's timeout); the generated content is small
# enough to read unshrunk.
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=contents, data=st.data())
def test_digest_ignores_order_and_sees_every_single_edit(pair: Pair, content: Content, data: st.DataObject) -> None:
    _clear(pair.a)
    _clear(pair.b)
    _fill_in_bulk(pair.a, content)
    shuffled = Content(
        objects=data.draw(st.permutations(content.objects)),
        configs=data.draw(st.permutations(content.configs)),
        records=data.draw(st.permutations(content.records)),
    )
    _fill_one_by_one(pair.b, shuffled)
    a, b = _digest(pair.a), _digest(pair.b)
    assert a == b

    edit = EDITS[data.draw(st.sampled_from(sorted(EDITS)))]
    component = edit(pair.b, content, data)
    edited = _digest(pair.b)
    assert _differing(a, edited) == {component}
    assert edited["environment"] != a["environment"]


def test_environments_start_equal_apart_from_their_first_administrator(tmp_path: Path) -> None:
    """Guards the fixture's premise: fresh environments differ only in the salted admin hash."""
    first, second = _environment(tmp_path / "one"), _environment(tmp_path / "two")
    try:
        assert _differing(_digest(first), _digest(second)) == {"users"}
        with first.db.read() as conn:
            hashed = _users.get(conn, {"login": "admin"})["password_hash"]
        with second.db.begin() as conn:
            _users.update(conn, {"login": "admin"}, {"password_hash": hashed})
        assert _digest(first) == _digest(second)
    finally:
        first.db.dispose()
        second.db.dispose()


def test_digest_of_a_row_does_not_depend_on_its_internal_id(pair: Pair) -> None:
    """Records carry an internal sequence number; the same record appended at a different position
    (so with another seq) hashes the same."""
    _clear(pair.a)
    _clear(pair.b)
    item = {"ts": dt.datetime(2024, 5, 1, 12, 0), "actor": "ann", "action": "export", "details": {"n": 1}}
    filler = {"ts": dt.datetime(2024, 5, 1, 12, 0), "actor": "x", "action": "y"}
    records.append(pair.a, ADMIN, "jobConsole", [item])
    records.append(pair.b, ADMIN, "jobConsole", [filler, filler, item])
    with pair.b.db.begin() as conn:
        t = tables.records
        first_two = [row.seq for row in conn.execute(sa.select(t.c.seq).where(t.c.actor == "x"))]
        for seq in first_two:
            _records.delete(conn, {"seq": seq})
    assert _digest(pair.a) == _digest(pair.b)
