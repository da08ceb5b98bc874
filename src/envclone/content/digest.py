"""Content digests: one hash per component and one for the environment, independent of row order
and of internal ids. Each row is hashed (BLAKE3 of canonical JSON of its content columns) and the
row hashes are added modulo 2**256, a multiset hash, so the digest streams in constant memory and
two databases that order rows differently (SQLite, PostgreSQL collations) agree. Files are covered
through their content hash column; settings images likewise."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from blake3 import blake3

from envclone.content.component_tables import COMPONENT_TABLES, Part
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


def canonical(values: Iterable[Any]) -> bytes:
    return json.dumps(
        list(values), sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    ).encode()


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
    hasher = blake3(component.value.encode())
    for part in COMPONENT_TABLES[component]:
        count, total = part_digest(conn, part)
        hasher.update(f"|{part.table.name}|{count}|".encode())
        hasher.update(total.to_bytes(32, "big"))
    return hasher.hexdigest()


def component_digest(conn: sa.Connection, component: Component) -> str:
    """The component's digest, reusing the cached value while the component has not changed."""
    cache = tables.component_generations
    current = generation(conn, component)
    row = conn.execute(
        sa.select(cache.c.digest, cache.c.digest_generation).where(cache.c.component == component.value)
    ).first()
    if row is not None and row.digest and row.digest_generation == current:
        return str(row.digest)
    return compute_component(conn, component)


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
