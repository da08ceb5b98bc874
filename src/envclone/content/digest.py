"""Content digests: one hash per component and one for the environment, independent of row order
and of internal ids. Each row is hashed (BLAKE3 of canonical JSON of its content columns) and the
row hashes are added modulo 2**256, a multiset hash, so the digest streams in constant memory and
two databases that order rows differently (SQLite, PostgreSQL collations) agree. Files are covered
through their content hash column; settings images likewise.

A backup reads every row of a changed component anyway (to write its table entries), so it sums
the row hashes in that same pass (``ComponentSums``) instead of reading the tables a second time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from blake3 import blake3

from envclone.content.component_tables import COMPONENT_TABLES, Part
from envclone.content.rows import line_encoder
from envclone.domain.components import Component
from envclone.store import tables
from envclone.store.database import generation

_MOD = 1 << 256
_BATCH = 5000


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot digest {type(value).__name__}")


_canonical_line = line_encoder(_default, sort_keys=True)


def canonical(values: Iterable[Any]) -> bytes:
    """``json.dumps(list(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""
    return _canonical_line(list(values)).encode()


def part_digest(conn: sa.Connection, part: Part) -> tuple[int, int]:
    """(count, sum of row hashes mod 2**256) over one part."""
    columns = part.content_columns()
    query = sa.select(*(part.table.c[name] for name in columns)).where(
        *(part.table.c[name] == value for name, value in part.filters.items())
    )
    total = 0
    count = 0
    result = conn.execute(query, execution_options={"yield_per": _BATCH})
    for partition in result.partitions():
        for row in partition:
            total += int.from_bytes(blake3(canonical(row)).digest(), "big")
            count += 1
    return count, total % _MOD


def compute_component(conn: sa.Connection, component: Component) -> str:
    return _combine(component, [(part, *part_digest(conn, part)) for part in COMPONENT_TABLES[component]])


def _combine(component: Component, sums: Iterable[tuple[Part, int, int]]) -> str:
    hasher = blake3(component.value.encode())
    for part, count, total in sums:
        hasher.update(f"|{part.table.name}|{count}|".encode())
        hasher.update(total.to_bytes(32, "big"))
    return hasher.hexdigest()


# Column types whose JSON (rows.py) is already the canonical form hashed here: no dicts (whose keys
# canonical() sorts), no bytes; naive datetimes are written the same way by both.
_PLAIN_TYPES = (sa.String, sa.Integer, sa.Boolean, sa.Float)


def _lines_are_canonical(part: Part) -> bool:
    for name in part.content_columns():
        kind = part.table.c[name].type
        if isinstance(kind, sa.DateTime):
            if kind.timezone:
                return False
        elif not isinstance(kind, _PLAIN_TYPES) or isinstance(kind, sa.JSON):
            return False
    return True


class PartSum:
    """The (count, sum of row hashes) of one part, fed one row at a time by whoever reads the part
    in full (export), with the row's values and its JSON line (rows.py). ``done`` once every row
    was seen: a reader stopped early leaves it not done, and its sum is not used."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.count = 0
        self.total = 0
        self.started = False
        self.done = False
        self._lines = _lines_are_canonical(part)
        columns = part.content_columns()
        self._times = [i for i, name in enumerate(columns) if isinstance(part.table.c[name].type, sa.DateTime)]

    def add(self, values: list[Any], line: str) -> None:
        plain = self._lines
        for i in self._times:  # an aware datetime (not stored so, but hashed as UTC if it were)
            if getattr(values[i], "tzinfo", None) is not None:
                plain = False
        data = line.encode() if plain else canonical(values)
        self.total += int.from_bytes(blake3(data).digest(), "big")
        self.count += 1


class ComponentSums:
    """One component's digest summed while its tables are exported from the same snapshot."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.parts = {part.table.name: PartSum(part) for part in COMPONENT_TABLES[component]}

    def digest(self) -> str | None:
        """The component's digest (as ``compute_component``), or None unless every part was read."""
        if not all(s.done for s in self.parts.values()):
            return None
        return _combine(self.component, ((s.part, s.count, s.total % _MOD) for s in self.parts.values()))


def cached_digest(conn: sa.Connection, component: Component) -> str | None:
    """The component's cached digest while the component has not changed since, else None."""
    cache = tables.component_generations
    current = generation(conn, component)
    row = conn.execute(
        sa.select(cache.c.digest, cache.c.digest_generation).where(cache.c.component == component.value)
    ).first()
    if row is not None and row.digest and row.digest_generation == current:
        return str(row.digest)
    return None


def component_digest(conn: sa.Connection, component: Component) -> str:
    """The component's digest, reusing the cached value while the component has not changed."""
    return cached_digest(conn, component) or compute_component(conn, component)


def store_cached(conn: sa.Connection, component: Component, digest: str, at_generation: int) -> None:
    """Cache a digest computed at ``at_generation``, unless the component changed meanwhile."""
    cache = tables.component_generations
    conn.execute(
        cache.update()
        .where(cache.c.component == component.value, cache.c.generation == at_generation)
        .values(digest=digest, digest_generation=at_generation)
    )


def environment_digest(components: dict[str, str]) -> str:
    hasher = blake3(b"envclone-environment")
    for name in sorted(components):
        hasher.update(f"|{name}={components[name]}".encode())
    return hasher.hexdigest()
