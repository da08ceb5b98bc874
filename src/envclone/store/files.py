"""The files repository: rows of the inbox, outbox and stored-snapshot areas (area, name, size,
content hash, modified time), and whether a content hash is still referenced by any row. The
contents are blobs (``files/<hash>``); this module never touches them."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from envclone.domain.page import Row
from envclone.store import tables
from envclone.store.repository import TableRepository

_T = tables.files
# Paged listing, get, insert, update and delete by (area, name), each bumping the files
# component's change counter like every content write.
rows = TableRepository(_T)


def find(conn: sa.Connection, area: str, name: str) -> Row | None:
    return rows.find(conn, {"area": area, "name": name})


def in_areas(conn: sa.Connection, areas: Sequence[str]) -> list[Row]:
    """Every row of ``areas``, the areas in the order given, then by name."""
    order = sa.case({area: position for position, area in enumerate(areas)}, value=_T.c.area)
    query = sa.select(_T).where(_T.c.area.in_(areas)).order_by(order, _T.c.name)
    return [dict(r._mapping) for r in conn.execute(query)]


def hash_referenced(conn: sa.Connection, content_hash: str) -> bool:
    """True while a file row or a settings image (logo, background) still refers to the content,
    so that its blob must stay."""
    if conn.execute(sa.select(_T.c.name).where(_T.c.hash == content_hash).limit(1)).first():
        return True
    s = tables.settings
    return any(isinstance(v, dict) and v.get("hash") == content_hash for (v,) in conn.execute(sa.select(s.c.value)))


def names_for_hash(conn: sa.Connection, content_hash: str) -> list[str]:
    """``area/name`` of every file whose content is ``content_hash`` (settings images are not files)."""
    query = sa.select(_T.c.area, _T.c.name).where(_T.c.hash == content_hash).order_by(_T.c.area, _T.c.name)
    return [f"{area}/{name}" for area, name in conn.execute(query)]
