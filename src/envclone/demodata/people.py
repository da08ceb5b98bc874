"""Users, groups, group members, application roles and role assignments of the seed content. Each
item's random choices come from its own stream or from the pools of the smallest size that holds
it, so a smaller size's people are exactly a subset of a larger size's."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, cached_property

from envclone.demodata.sections import Item
from envclone.demodata.sizes import COUNTS, Counts, introduced_at
from envclone.demodata.streams import Streams
from envclone.demodata.vocabulary import APP_ROLES, DEPTS, FIRST, LAST, REGIONS, SIGN_IN, TEAMS
from envclone.domain.roles import Role


@cache
def group_tree(count: int) -> tuple[tuple[str, str | None], ...]:
    """(name, parent) in creation order: departments, then regional groups, then teams. A larger
    ``count`` holds every group of a smaller one, with the same parent."""
    roots = DEPTS[: min(len(DEPTS), max(2, count // 8))]
    out: list[tuple[str, str | None]] = [(r, None) for r in roots]
    level = list(roots)
    for words in (REGIONS, TEAMS):
        pairs = [(f"{parent} {w}", parent) for w in words for parent in level]
        out += pairs
        level = [name for name, _ in pairs]
    return tuple(out[:count])


@cache
def _group_names(count: int) -> tuple[str, ...]:
    return tuple(name for name, _ in group_tree(count))


def _user(login: str, display_name: str, password: str | None, enabled: bool) -> Item:
    return {
        "login": login,
        "display_name": display_name,
        "email": f"{login}@example.com",
        "password": password,
        "enabled": enabled,
    }


class People:
    def __init__(self, streams: Streams, counts: Counts) -> None:
        self._streams = streams
        self.counts = counts

    @cached_property
    def passwords(self) -> dict[str, str]:
        """Sign-in users' passwords, derived from the seed: seed only test and demo environments."""
        rng = self._streams.rng("passwords")
        return {login: f"Seed{self._streams.seed}-{rng.getrandbits(64):016x}" for login in SIGN_IN}

    @cached_property
    def all_users(self) -> list[Item]:
        # One stream in order: user i is the same in every size that has more than i users.
        rng = self._streams.rng("users")
        users = [_user(login, login.replace(".", " ").title(), pw, True) for login, pw in self.passwords.items()]
        taken = set(SIGN_IN)
        while len(users) < self.counts.users:
            given, family = rng.choice(FIRST), rng.choice(LAST)
            login = f"{given}.{family}".lower()
            while login in taken:
                login = f"{given}.{family}{rng.randint(2, 999)}".lower()
            taken.add(login)
            users.append(_user(login, f"{given} {family}", None, rng.random() > 0.03))
        return users

    @cached_property
    def logins(self) -> list[str]:
        return [u["login"] for u in self.all_users]

    def users(self) -> Iterator[Item]:
        return (dict(u) for u in self.all_users)

    @cached_property
    def tree(self) -> tuple[tuple[str, str | None], ...]:
        return group_tree(self.counts.groups)

    def group_names(self, counts: Counts | None = None) -> tuple[str, ...]:
        """The groups of this size, or of the size with ``counts`` (a pool for references)."""
        return _group_names(self.counts.groups if counts is None else counts.groups)

    def groups(self) -> Iterator[Item]:
        for name, parent in self.tree:
            scope = f"part of {parent}" if parent else "department"
            yield {"name": name, "description": f"{name} ({scope})"}

    def group_members(self) -> Iterator[tuple[str, list[Item]]]:
        """(group, members): each group in its parent, and each user in two groups of the smallest
        size that has the user."""
        members: dict[str, list[Item]] = {name: [] for name in self.group_names()}
        for name, parent in self.tree:
            if parent is not None:
                members[parent].append({"member_kind": "group", "member_name": name})
        pools = {size: self.group_names(size) for size in COUNTS.values()}
        for index, login in enumerate(self.logins):
            pool = pools[introduced_at(index, lambda c: c.users)]
            for group in self._streams.rng("members", login).sample(pool, min(2, len(pool))):
                members[group].append({"member_kind": "user", "member_name": login})
        yield from ((name, items) for name, items in members.items() if items)

    def roles(self) -> Iterator[Item]:
        return ({"name": name, "description": f"Application role: {name}"} for name in APP_ROLES)

    def role_assignments(self) -> Iterator[Item]:
        for login, roles in SIGN_IN.items():
            yield from ({"principal_kind": "user", "principal_name": login, "role_name": r.value} for r in roles)
        choices = [Role.POWER_USER.value, Role.USER.value, Role.VIEWER.value, *APP_ROLES]
        for name, parent in self.tree:
            role = Role.VIEWER.value if parent is None else self._streams.rng("assignments", name).choice(choices)
            yield {"principal_kind": "group", "principal_name": name, "role_name": role}
        for login in self.logins[len(SIGN_IN) :: 10]:
            role = self._streams.rng("assignments", "user", login).choice(choices)
            yield {"principal_kind": "user", "principal_name": login, "role_name": role}
