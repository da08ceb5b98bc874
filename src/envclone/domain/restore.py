"""Restore Environment as the rest of the code names it: the kind, its steps and the request, with
the components and settings keys that request chooses. Pure: no I/O."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from envclone.domain.apply import apply_phases
from envclone.domain.components import Component
from envclone.domain.settings_keys import MAINTENANCE_KEYS

KIND = "restoreEnvironment"
RESTORE_STEP = "Restoring Environment Backup"
USERS_STEP = "Importing users and predefined roles"
FILES_STEP = "Uploading stored snapshots and files"
MAINTENANCE_STEP = "Setting daily maintenance start time to that of the backup"
STEPS = (RESTORE_STEP, USERS_STEP, FILES_STEP, MAINTENANCE_STEP)
# The optional steps run inside the restore step's transaction, within its replace phase.
PHASES = apply_phases(RESTORE_STEP)

# Always restored, in this order; users and files only when asked for.
CORE = (
    Component.ARTIFACTS,
    Component.CONFIGURATION,
    Component.JOBS,
    Component.JOB_CONSOLE,
    Component.APPLICATION_AUDIT,
    Component.DATA_MANAGEMENT,
    Component.SETTINGS,
)


class RestoreRequest(BaseModel):
    """The restore operation's parameters (its dump)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backup_name: str
    users: bool = False
    maintenance_start_time: bool = True
    stored_snapshots_and_files: bool = False

    def components(self) -> list[Component]:
        chosen = list(CORE)
        if self.users:
            chosen.append(Component.USERS)
        if self.stored_snapshots_and_files:
            chosen.append(Component.FILES)
        return chosen

    def keep_settings(self) -> frozenset[str]:
        """Settings keys that keep this environment's values: the start time, unless restored."""
        return frozenset() if self.maintenance_start_time else MAINTENANCE_KEYS
