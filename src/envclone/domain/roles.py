"""Roles named by the vendor documents. Predefined roles form the EPM hierarchy; the identity
role and granular roles are granted on top of them."""

from enum import StrEnum


class Role(StrEnum):
    SERVICE_ADMINISTRATOR = "Service Administrator"
    POWER_USER = "Power User"
    USER = "User"
    VIEWER = "Viewer"
    IDENTITY_DOMAIN_ADMINISTRATOR = "Identity Domain Administrator"
    MIGRATIONS_ADMINISTER = "Migrations - Administer"


PREDEFINED_ROLES: tuple[Role, ...] = (
    Role.SERVICE_ADMINISTRATOR,
    Role.POWER_USER,
    Role.USER,
    Role.VIEWER,
    Role.IDENTITY_DOMAIN_ADMINISTRATOR,
)
GRANULAR_ROLES: tuple[Role, ...] = (Role.MIGRATIONS_ADMINISTER,)

# Each predefined application role includes the ones below it (EPM: a Power User can do what a
# User can, and so on). The identity role stands apart.
ROLE_IMPLIES: dict[Role, tuple[Role, ...]] = {
    Role.SERVICE_ADMINISTRATOR: (Role.POWER_USER, Role.USER, Role.VIEWER),
    Role.POWER_USER: (Role.USER, Role.VIEWER),
    Role.USER: (Role.VIEWER,),
}


def expand(roles: set[str]) -> frozenset[str]:
    """The roles held once the hierarchy is applied."""
    held = set(roles)
    for name in roles:
        try:
            held.update(ROLE_IMPLIES.get(Role(name), ()))
        except ValueError:
            continue
    return frozenset(held)
