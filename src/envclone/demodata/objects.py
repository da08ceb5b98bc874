"""One project's metadata objects as an endless stream in the vendor's shapes: a few fixed folders,
then folders, schema objects and public objects mixed, whose definitions refer to earlier ones. The
first n objects are the same whatever n is, so a project's objects in a smaller size are a prefix."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

from envclone.demodata.sections import Item
from envclone.demodata.streams import hex32
from envclone.demodata.vocabulary import (
    AGGREGATES,
    ATTRIBUTES,
    DEPTS,
    FACTS,
    FOLDER_OF,
    LOCALES,
    PERIODS,
    PUBLIC_TYPES,
    PUBLIC_WEIGHTS,
    QUALIFIERS,
    REGIONS,
    RIGHTS,
    SCHEMA_TYPES,
    SCHEMA_WEIGHTS,
    TRANSLATIONS,
)

# Shares of the stream after the fixed folders: about the 2 % folders and 15 % schema objects of
# the vendor's projects.
FOLDER_SHARE = 0.02
SCHEMA_SHARE = 0.15


def _translate(name: str, locale: int) -> str:
    return " ".join(TRANSLATIONS[w][locale] if w in TRANSLATIONS else w for w in name.split(" "))


def _object_name(rng: random.Random, kind: int) -> str:
    attribute = rng.choice(ATTRIBUTES) + rng.choice(QUALIFIERS)
    match kind:
        case 12:
            return attribute
        case 13:
            return rng.choice(FACTS)
        case 15:
            return f"{rng.choice(('LU', 'FACT', 'REL', 'AGG'))}_{attribute.upper().replace(' ', '_')}"
        case 14:
            return f"{attribute} Hierarchy"
        case 4:
            return f"{rng.choice(AGGREGATES)} {rng.choice(FACTS)}{rng.choice(PERIODS)}"
        case 1:
            return f"{attribute} = {rng.choice(REGIONS + DEPTS)}"
        case 2:
            return f"{attribute} by {rng.choice(ATTRIBUTES)} Grid"
        case 10:
            return f"Choose {attribute}"
        case 3:
            return f"{rng.choice(DEPTS)} {rng.choice(FACTS)} by {attribute}"
        case 55:
            return f"{rng.choice(DEPTS)} {rng.choice(('Dashboard', 'Scorecard', 'Briefing Book'))}"
        case 47:
            return f"{attribute} Groups"
        case _:
            return f"Shortcut to {rng.choice(FACTS)} by {attribute}"


def _definition(rng: random.Random, kind: int, name: str, recent: dict[int, list[tuple[str, str]]]) -> Item:
    def refs(of: int, most: int) -> list[str]:
        pool = recent.get(of, [])
        return [object_id for object_id, _ in rng.sample(pool, min(len(pool), rng.randint(1, most)))]

    if kind == 8:
        return {"hidden": rng.random() < 0.05, "sortOrder": "name"}
    if kind == 12:
        return {
            "forms": [{"name": f, "dataType": rng.choice(("varChar", "integer", "date"))} for f in ("ID", "DESC")],
            "lookupTable": refs(15, 1),
            "parents": refs(12, 2),
        }
    if kind == 13:
        return {"expression": f"[{name.split(' ')[0].upper()}_AMT]", "sourceTables": refs(15, 3)}
    if kind == 15:
        columns = [{"name": f"COL_{c}", "dataType": rng.choice(("NUMBER", "VARCHAR2", "DATE"))} for c in range(8)]
        return {"physicalTable": f"DW.{name.replace(' ', '_')}", "columns": columns, "rowCount": rng.randint(10, 10**8)}
    if kind == 4:
        category = rng.choice(("Currency", "Percent", "Number"))
        return {
            "expression": f"{name.split(' ')[0]}([{rng.choice(FACTS)}])",
            "facts": refs(13, 2),
            "dimensionality": refs(12, 2),
            "format": {"category": category, "decimals": rng.choice((0, 2))},
        }
    if kind == 1:
        return {
            "qualification": {
                "attribute": refs(12, 1),
                "operator": rng.choice(("In", "NotIn", "Equals")),
                "elements": rng.sample(REGIONS, 2),
            }
        }
    if kind in (3, 2, 55):
        return {
            "rows": refs(12, 3),
            "columns": refs(4, 4),
            "filter": refs(1, 1),
            "prompts": refs(10, 2),
            "datasets": refs(3, 3),
            "viewMode": rng.choice(("grid", "graph", "gridGraph")),
        }
    return {"target": refs(12, 1), "elements": rng.randint(2, 12)}


def _fixed_folders() -> tuple[list[str], list[str]]:
    """(every fixed folder, the report and document homes that new folders and objects go in)."""
    paths = ["/Public Objects", "/Public Objects/Reports", "/Public Objects/Documents", "/Profiles"]
    paths += ["/Schema Objects", *sorted(set(FOLDER_OF.values()))]
    homes = [f"/Public Objects/{kind}/{d}" for kind in ("Reports", "Documents") for d in DEPTS]
    return paths + homes, list(homes)


def object_stream(rng: random.Random, owners: list[str], groups_for: Callable[[int], Sequence[str]]) -> Iterator[Item]:
    """Endless: take as many as the project holds. ``groups_for(index)`` gives the groups object
    ``index`` may grant rights to (those of the smallest size that holds the object)."""
    folders, homes = _fixed_folders()
    recent: dict[int, list[tuple[str, str]]] = {}
    index = 0
    while True:
        pick = rng.random() if index >= len(folders) else 0.0
        if index < len(folders) or pick < FOLDER_SHARE:
            if index < len(folders):
                path = folders[index]
            else:
                path = f"{rng.choice(homes)}/{rng.choice(('FY', 'Q', 'Archive ', 'Team '))}{index}"
                if path.count("/") < 6:
                    homes.append(path)
            where, _, name = path.rpartition("/")
            kind, sub, where = 8, 2048, where or "/"
        else:
            schema = pick < FOLDER_SHARE + SCHEMA_SHARE
            types, weights = (SCHEMA_TYPES, SCHEMA_WEIGHTS) if schema else (PUBLIC_TYPES, PUBLIC_WEIGHTS)
            kind, sub = rng.choices(types, weights)[0]
            name = f"{_object_name(rng, kind)} {index}"
            where = FOLDER_OF.get(kind) or rng.choice(homes)
        object_id, owner = hex32(rng), rng.choice(owners)
        recent.setdefault(kind, []).append((object_id, name))
        del recent[kind][:-32]
        acl = [{"trustee": owner, "kind": "user", "rights": RIGHTS["full_control"], "inheritable": kind == 8}]
        groups = groups_for(index)
        acl += [
            {"trustee": g, "kind": "group", "rights": RIGHTS[rng.choice(("view", "modify", "browse"))]}
            for g in rng.sample(groups, min(len(groups), rng.randint(1, 3)))
        ]
        translations: Item = {}
        if rng.random() < 0.25:
            translations = {"1033": {"name": name}} | {
                loc: {"name": _translate(name, i)} for i, loc in enumerate(LOCALES) if rng.random() < 0.7
            }
        yield {
            "id": object_id,
            "type": kind,
            "subtype": sub,
            "name": name,
            "folder_path": where,
            "is_schema": kind in (12, 13, 14, 15),
            "owner": owner,
            "definition": _definition(rng, kind, name, recent),
            "acl": acl,
            "translations": translations,
        }
        index += 1
