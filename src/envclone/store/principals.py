"""Role resolution for a login: direct assignments plus those of every group the user belongs to,
through nested groups. Cycles in group nesting are tolerated."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.store import tables


def groups_of(conn: sa.Connection, login: str) -> set[str]:
    members = tables.group_members
    found: set[str] = set()
    frontier = [("user", login)]
    while frontier:
        kinds_names = frontier
        frontier = []
        for kind, name in kinds_names:
            query = sa.select(members.c.group_name).where(members.c.member_kind == kind, members.c.member_name == name)
            for (group,) in conn.execute(query):
                if group not in found:
                    found.add(group)
                    frontier.append(("group", group))
    return found


def roles_of(conn: sa.Connection, login: str) -> set[str]:
    ra = tables.role_assignments
    groups = groups_of(conn, login)
    query = sa.select(ra.c.role_name).where(
        sa.or_(
            sa.and_(ra.c.principal_kind == "user", ra.c.principal_name == login),
            sa.and_(ra.c.principal_kind == "group", ra.c.principal_name.in_(groups)),
        )
    )
    return {name for (name,) in conn.execute(query)}
