"""Pure model of an environment: components, service types, roles. No I/O lives here."""

from envclone.domain.components import Component
from envclone.domain.roles import GRANULAR_ROLES, PREDEFINED_ROLES, Role
from envclone.domain.service import ServiceType

__all__ = ["GRANULAR_ROLES", "PREDEFINED_ROLES", "Component", "Role", "ServiceType"]
