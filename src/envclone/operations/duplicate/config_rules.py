"""How a package's configuration objects meet the target's (Strategy's conflict rules, made
precise). Pure: rows in, the writes out.

For each source object, in id order: with its type in ``typesMatchByName`` it is matched by type
and name (taking the target object's id; an unmatched one whose id is another object's here gets a
derived id); otherwise by id. A user (34/8704) whose login is another user's here is, with
``matchUsersByLogin``, matched to that user (its id adopted); without, kept as a second user with
the login renamed ``<login>_<n>`` (the first n from 2 free among both sides' logins), and the
imported project's references to the login follow. Unmatched: inserted. Matched, by the type's
rule: 1 use-existing (the target's kept), 2 replace (the source's row under the target's id), 6
merge on users and security roles (the target's row, its definition with every list the source's
definition also has extended by the source's items it lacks, and keys only the source has added).
A target object is met at most once: a later source object that meets it again is left out.
Logins are unique on each side (an environment's are)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from envclone.domain.duplication import MERGE, REPLACE, USER_TYPE, ImportConfigurationObjects

USER_SUBTYPE = 8704


@dataclass
class ConfigPlan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # whole rows, by id
    renamed: dict[str, str] = field(default_factory=dict)  # source login -> its login here


def is_user(row: dict[str, Any]) -> bool:
    return int(row["type"]) == USER_TYPE and int(row["subtype"]) == USER_SUBTYPE


def derived_id(object_id: str) -> str:
    return hashlib.sha256(f"envclone-duplicate\0{object_id}".encode()).hexdigest()[:32].upper()


def merge_definitions(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    merged = dict(target)
    for key, value in source.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = merged[key] + [item for item in value if item not in merged[key]]
    return merged


def plan_config(
    source: Iterable[dict[str, Any]],
    target: Iterable[dict[str, Any]],
    rules: ImportConfigurationObjects,
    types_match_by_name: Iterable[int] = (),
) -> ConfigPlan:
    plan = ConfigPlan()
    sources = sorted((dict(r) for r in source), key=lambda r: str(r["id"]))
    targets = sorted((dict(r) for r in target), key=lambda r: str(r["id"]))
    by_id = {str(t["id"]): t for t in targets}
    by_name: dict[tuple[int, str], dict[str, Any]] = {}
    for t in targets:
        by_name.setdefault((int(t["type"]), str(t["name"])), t)
    users_here = {str(t["name"]): t for t in targets if is_user(t)}
    logins = set(users_here) | {str(s["name"]) for s in sources if is_user(s)}
    by_name_types = set(types_match_by_name)
    claimed: set[str] = set()
    for s in sources:
        conflict: dict[str, Any] | None
        if int(s["type"]) in by_name_types:
            conflict = by_name.get((int(s["type"]), str(s["name"])))
            if conflict is not None:
                s["id"] = conflict["id"]
            elif str(s["id"]) in by_id:
                s["id"] = derived_id(str(s["id"]))
        else:
            conflict = by_id.get(str(s["id"]))
        if is_user(s):
            other = users_here.get(str(s["name"]))
            if other is not None and other["id"] != s["id"]:
                if rules.match_users_by_login:
                    s["id"], conflict = other["id"], other
                else:
                    new = _free_login(str(s["name"]), logins)
                    logins.add(new)
                    plan.renamed[str(s["name"])] = new
                    s["name"] = new
        if str(s["id"]) in claimed:
            continue
        claimed.add(str(s["id"]))
        if conflict is None:
            plan.inserts.append(s)
            continue
        rule = rules.rule_for(int(s["type"]))
        if rule == REPLACE:
            plan.updates.append(s)
        elif rule == MERGE:
            definition = merge_definitions(dict(conflict["definition"] or {}), dict(s["definition"] or {}))
            plan.updates.append({**conflict, "definition": definition})
    return plan


def _free_login(login: str, taken: set[str]) -> str:
    n = 2
    while f"{login}_{n}" in taken:
        n += 1
    return f"{login}_{n}"
