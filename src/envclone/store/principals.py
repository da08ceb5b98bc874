"""Role resolution for a login: direct assignments plus those of every group the user belongs to,
through nested groups (cycles tolerated); and ending a user's sessions when its credentials change,
however they change (an update, a delete, a restore or clone that replaces the users)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from envclone.store import tables
from envclone.store.database import note_change

# An apply's receipt (services.transfer) reads one operation's status: it is not a login, and the
# source must keep following its clone whatever becomes of the account that started it.
RECEIPT_PREFIX = "receipt:"
Credentials = dict[str, tuple[str | None, bool]]  # login -> (password hash, enabled)
# What a transaction that ends sessions notes (store.database.note_change): caches of checked
# credentials must forget them once it commits.
SESSIONS_ENDED = "sessions ended"


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


def credentials(conn: sa.Connection) -> Credentials:
    u = tables.users
    rows = conn.execute(sa.select(u.c.login, u.c.password_hash, u.c.enabled))
    return {login: (hashed, bool(enabled)) for login, hashed, enabled in rows}


def end_sessions(conn: sa.Connection, logins: Iterable[str]) -> int:
    """Delete every token and dialect session of ``logins`` (receipts excepted); how many."""
    t, ended = tables.tokens, 0
    note_change(conn, SESSIONS_ENDED)
    chosen = sorted(set(logins))
    for start in range(0, len(chosen), 500):
        batch = chosen[start : start + 500]
        ended += conn.execute(t.delete().where(t.c.login.in_(batch), ~t.c.kind.startswith(RECEIPT_PREFIX))).rowcount
    return ended


def end_changed_sessions(conn: sa.Connection, before: Credentials) -> int:
    """After the users were replaced: end the sessions of every user whose password or enabled
    flag changed, or who is gone."""
    after = credentials(conn)
    return end_sessions(conn, (login for login, held in before.items() if after.get(login) != held))
