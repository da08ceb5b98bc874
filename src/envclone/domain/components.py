"""The components an environment's content is divided into (DESIGN.md): the unit of selection for
clone, restore and backup. Names follow the EPM clone options and must stay stable."""

from enum import StrEnum


class Component(StrEnum):
    ARTIFACTS = "artifacts"
    USERS = "users"
    CONFIGURATION = "configuration"
    JOBS = "jobs"
    JOB_CONSOLE = "jobConsole"
    APPLICATION_AUDIT = "applicationAudit"
    DATA_MANAGEMENT = "dataManagement"
    FILES = "files"
    SETTINGS = "settings"


# Components whose content is an append-only stream of records (queried, never edited).
RECORD_COMPONENTS: tuple[Component, ...] = (
    Component.JOB_CONSOLE,
    Component.APPLICATION_AUDIT,
    Component.DATA_MANAGEMENT,
)
