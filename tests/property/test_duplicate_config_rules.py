"""Hypothesis: for random small source and target sets of configuration objects and random import
settings, what the import writes (operations.duplicate: the plan, applied to a database) equals a
small pure reference model of the rules as docs/compatibility.md states them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envclone.domain.duplication import ImportConfigurationObjects
from envclone.operations.duplicate.config_rules import derived_id, plan_config
from envclone.operations.duplicate.importing import write_config
from envclone.store import tables
from envclone.store.repository import TableRepository

Row = dict[str, Any]
IDS = [f"{i:032X}" for i in range(1, 7)]
NAMES = ["ann", "bob", "cat", "dw"]
KINDS = [(34, 8704), (34, 8705), (44, 11264), (29, 7424)]  # user, group, security role, instance
USER = (34, 8704)


# -- the reference model ----------------------------------------------------------------------------
def effective_rule(rules: list[tuple[int, int]], object_type: int) -> int:
    given = {t: r for t, r in rules if r != 0}
    rule = given.get(object_type, given.get(0, 1))
    return 1 if rule == 6 and object_type not in (34, 44) else rule


def is_user(row: Row) -> bool:
    return (row["type"], row["subtype"]) == USER


def merged(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    out = dict(mine)
    for key, value in theirs.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list) and isinstance(value, list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
    return out


def model(
    source: list[Row], target: list[Row], rules: list[tuple[int, int]], by_login: bool, by_name: set[int]
) -> tuple[dict[str, Row], dict[str, str]]:
    final = {t["id"]: dict(t) for t in target}
    here = sorted(target, key=lambda t: t["id"])
    logins = {t["name"] for t in target if is_user(t)} | {s["name"] for s in source if is_user(s)}
    renamed: dict[str, str] = {}
    met: set[str] = set()
    for original in sorted(source, key=lambda s: s["id"]):
        s = dict(original)
        existing: Row | None
        if s["type"] in by_name:
            hits = [t for t in here if t["type"] == s["type"] and t["name"] == s["name"]]
            existing = hits[0] if hits else None
            if existing is not None:
                s["id"] = existing["id"]
            elif any(t["id"] == s["id"] for t in here):
                s["id"] = derived_id(s["id"])
        else:
            existing = next((t for t in here if t["id"] == s["id"]), None)
        if is_user(s):
            namesake = [t for t in here if is_user(t) and t["name"] == s["name"] and t["id"] != s["id"]]
            if namesake and by_login:
                existing, s["id"] = namesake[0], namesake[0]["id"]
            elif namesake:
                n = 2
                while f"{s['name']}_{n}" in logins:
                    n += 1
                logins.add(f"{s['name']}_{n}")
                renamed[s["name"]] = f"{s['name']}_{n}"
                s["name"] = f"{s['name']}_{n}"
        if s["id"] in met:
            continue
        met.add(s["id"])
        rule = effective_rule(rules, s["type"])
        if existing is None or rule == 2:
            final[s["id"]] = s
        elif rule == 6:
            final[s["id"]] = {**existing, "definition": merged(existing["definition"], s["definition"])}
    return final, renamed


# -- random content ---------------------------------------------------------------------------------
@st.composite
def objects(draw: st.DrawFn) -> list[Row]:
    chosen = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    out: list[Row] = []
    for object_id in chosen:
        kind, subtype = draw(st.sampled_from(KINDS))
        name = draw(st.sampled_from(NAMES))
        if (kind, subtype) == USER and any(is_user(o) and o["name"] == name for o in out):
            continue  # logins are unique in an environment
        definition = {"members": draw(st.lists(st.integers(0, 4), unique=True, max_size=3))}
        if draw(st.booleans()):
            definition["note"] = draw(st.sampled_from(["a", "b"]))
        out.append({"id": object_id, "type": kind, "subtype": subtype, "name": name,
                    "description": draw(st.sampled_from(["", "x"])), "definition": definition})  # fmt: skip
    return out


rule_lists = st.lists(
    st.tuples(st.sampled_from([0, 29, 34, 44]), st.sampled_from([0, 1, 2, 6])), unique_by=lambda r: r[0], max_size=4
)


@contextmanager
def database(rows: list[Row]) -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        TableRepository(tables.config_objects).insert_many(conn, rows)
        yield conn
    engine.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=objects(),
    target=objects(),
    rules=rule_lists,
    by_login=st.booleans(),
    by_name=st.sets(st.sampled_from([29, 44])),
)
def test_the_import_writes_what_the_model_says(
    source: list[Row], target: list[Row], rules: list[tuple[int, int]], by_login: bool, by_name: set[int]
) -> None:
    settings_ = ImportConfigurationObjects.model_validate(
        {"conflictRules": [{"type": t, "rule": r} for t, r in rules], "matchUsersByLogin": by_login}
    )
    with database(target) as conn:
        plan = plan_config(source, TableRepository(tables.config_objects).stream(conn), settings_, sorted(by_name))
        write_config(conn, plan)
        result = {r["id"]: r for r in TableRepository(tables.config_objects).stream(conn)}
    expected, renamed = model(source, target, rules, by_login, by_name)
    assert result == expected
    assert plan.renamed == renamed
