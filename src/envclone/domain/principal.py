"""The authenticated caller and the permissions each role grants. Every service call checks one
permission against the caller's roles (the EPM hierarchy applied)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from envclone.domain.roles import Role, expand
from envclone.errors import Forbidden


class Permission(StrEnum):
    READ_CONTENT = "read content"
    WRITE_CONTENT = "change content"
    ADMINISTER_USERS = "administer users and roles"
    ADMINISTER_SETTINGS = "change settings"
    MIGRATE = "run migrations (clone, restore, backup)"
    MIGRATE_USERS = "migrate users and roles"


_GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.READ_CONTENT: frozenset({Role.VIEWER, Role.MIGRATIONS_ADMINISTER}),
    Permission.WRITE_CONTENT: frozenset({Role.POWER_USER}),
    Permission.ADMINISTER_USERS: frozenset({Role.SERVICE_ADMINISTRATOR, Role.IDENTITY_DOMAIN_ADMINISTRATOR}),
    Permission.ADMINISTER_SETTINGS: frozenset({Role.SERVICE_ADMINISTRATOR}),
    Permission.MIGRATE: frozenset({Role.SERVICE_ADMINISTRATOR, Role.MIGRATIONS_ADMINISTER}),
    Permission.MIGRATE_USERS: frozenset({Role.IDENTITY_DOMAIN_ADMINISTRATOR}),
}


@dataclass(frozen=True)
class Principal:
    login: str
    roles: frozenset[str]

    @classmethod
    def of(cls, login: str, roles: set[str]) -> Principal:
        return cls(login=login, roles=expand(roles))

    def can(self, permission: Permission) -> bool:
        return any(role.value in self.roles for role in _GRANTS[permission])

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            needed = " or ".join(sorted(r.value for r in _GRANTS[permission]))
            raise Forbidden(f"{self.login} may not {permission.value}: requires the {needed} role")
