"""Which tables hold each component, with the filter that selects its rows. The single place that
maps components to storage: digest, export and replace all read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from envclone.domain.components import Component
from envclone.store import tables


@dataclass(frozen=True)
class Part:
    table: sa.Table
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> frozenset[str]:
        return frozenset(self.table.info.get("internal", frozenset()))

    def content_columns(self) -> list[str]:
        skip = self.internal | set(self.filters)
        return [c.name for c in self.table.columns if c.name not in skip]


def _records(component: Component) -> tuple[Part, ...]:
    return (Part(tables.records, {"component": str(component)}),)


COMPONENT_TABLES: dict[Component, tuple[Part, ...]] = {
    Component.ARTIFACTS: (
        Part(tables.projects),
        Part(tables.metadata_objects),
        Part(tables.profile_folders),
        Part(tables.subscriptions),
    ),
    Component.USERS: (
        Part(tables.users),
        Part(tables.groups),
        Part(tables.group_members),
        Part(tables.roles),
        Part(tables.role_assignments),
    ),
    Component.CONFIGURATION: (Part(tables.config_objects),),
    Component.JOBS: (Part(tables.repositories), Part(tables.jobs)),
    Component.JOB_CONSOLE: _records(Component.JOB_CONSOLE),
    Component.APPLICATION_AUDIT: _records(Component.APPLICATION_AUDIT),
    Component.DATA_MANAGEMENT: _records(Component.DATA_MANAGEMENT),
    Component.FILES: (Part(tables.files),),
    Component.SETTINGS: (Part(tables.settings),),
}
