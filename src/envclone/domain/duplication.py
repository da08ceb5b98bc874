"""Project duplication as the rest of the code names it: the operation kinds of each side, their
steps, the status values Strategy's document uses and how an operation's state maps to them, and the
request with its settings (defaults filled, rules checked). Pure: no I/O.

The settings tree is Strategy's (seed 002) because it is the concept: camelCase on the wire through
the alias generator, snake_case in code. The dialect renders records; this module decides values.

Roles: a duplication whose source and target environment ids are equal runs here whole (LOCAL); a
cross-environment one is two records with the same id, the SOURCE side (export, then the package
synced into the storage service) and the TARGET side (synced from the storage service or from an
uploaded package, then imported)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from envclone.domain.apply import apply_phases
from envclone.domain.operation import Operation, OperationStatus, StepResult
from envclone.domain.progress import Phase

# -- kinds and steps ---------------------------------------------------------------------------------
DUPLICATE_KIND = "duplicateProject"  # both sides here (same environment)
EXPORT_KIND = "exportProject"  # the source side of a cross-environment duplication
IMPORT_KIND = "importProject"  # the target side (from the storage service or an uploaded package)
KINDS = (DUPLICATE_KIND, EXPORT_KIND, IMPORT_KIND)

EXPORT_STEP = "Exporting project"
SYNC_OUT_STEP = "Syncing package to the storage service"
SYNC_IN_STEP = "Syncing package from the storage service"
IMPORT_STEP = "Importing project"

DUPLICATE_STEPS = (EXPORT_STEP, IMPORT_STEP)
EXPORT_STEPS = (EXPORT_STEP, SYNC_OUT_STEP)
IMPORT_STEPS = (SYNC_IN_STEP, IMPORT_STEP)

PACKAGE_SUFFIX = ".projdup"
USER_FENCING_KEY = "user_fencing"  # environment setting: true makes the duplication endpoints refuse


def duplicate_phases() -> tuple[Phase, ...]:
    return (Phase("export", 40, EXPORT_STEP), *_scaled(apply_phases(IMPORT_STEP), 60))


def export_phases() -> tuple[Phase, ...]:
    return (Phase("export", 60, EXPORT_STEP), Phase("sync_out", 40, SYNC_OUT_STEP))


def import_phases() -> tuple[Phase, ...]:
    return (Phase("sync_in", 30, SYNC_IN_STEP), *_scaled(apply_phases(IMPORT_STEP), 70))


def _scaled(phases: tuple[Phase, ...], total: float) -> tuple[Phase, ...]:
    whole = sum(p.weight for p in phases)
    return tuple(Phase(p.key, p.weight * total / whole, p.step) for p in phases)


class Role(StrEnum):
    LOCAL = "local"
    SOURCE = "source"
    TARGET = "target"


class DuplicationStatus(StrEnum):
    """The document's values, exactly (lower case; the SDK's upper case is the dialect's rendering)."""

    EXPORTING = "exporting"
    EXPORT_SYNCING = "export_syncing"
    EXPORTED = "exported"
    EXPORT_FAILED = "export_failed"
    IMPORT_SYNCING = "import_syncing"
    IMPORTING = "importing"
    COMPLETED = "completed"
    IMPORT_FAILED = "import_failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def is_stable(self) -> bool:
        return self in STABLE


STABLE = frozenset(
    {
        DuplicationStatus.EXPORTED,
        DuplicationStatus.EXPORT_FAILED,
        DuplicationStatus.COMPLETED,
        DuplicationStatus.IMPORT_FAILED,
        DuplicationStatus.CANCELLED,
    }
)
# The document: "You can only cancel duplications that are in exporting, exporting_syncing,
# import_syncing or importing status".
CANCELLABLE = frozenset(
    {
        DuplicationStatus.EXPORTING,
        DuplicationStatus.EXPORT_SYNCING,
        DuplicationStatus.IMPORT_SYNCING,
        DuplicationStatus.IMPORTING,
    }
)


# -- the request --------------------------------------------------------------------------------------
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{32}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Lcid = Annotated[int, Field(ge=0, le=0xFFFF)]
ObjectType = Annotated[int, Field(ge=0, le=0xFFFF)]

# Export rules (settings.export.configurationObjects.rules)
RULE_NONE, RULE_RELATED, RULE_SELECTED, RULE_ALL = 0, 1, 2, 3
DEFAULT_TYPE, USER_TYPE = 5, 34  # 5: every configuration object; 34: users (and user groups)
# Import conflict rules (settings.import.configurationObjects.conflictRules); 0: none given
NO_RULE, USE_EXISTING, REPLACE, MERGE = 0, 1, 2, 6
SECURITY_ROLE_TYPE = 44
MERGEABLE_TYPES = frozenset({USER_TYPE, SECURITY_ROLE_TYPE})  # merge on any other type is use-existing
ANY_TYPE = 0  # a conflict rule on type 0 applies to every type without a rule of its own


class _Model(BaseModel):
    # Unknown fields are ignored, not refused: Strategy's clients send fields of newer versions.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True)


class EnvironmentRef(_Model):
    id: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
    name: Annotated[str, StringConstraints(max_length=255)] = ""


class ProjectRef(_Model):
    id: Hex32 | None = None
    name: Name | None = None


class Side(_Model):
    environment: EnvironmentRef
    project: ProjectRef


class ProjectObjectsPreference(_Model):
    schema_objects_only: bool = False
    skip_empty_profile_folders: bool = False
    skip_all_profile_folders: bool = False


class SubscriptionPreferences(_Model):
    include_user_subscriptions: bool = False
    include_contact_subscriptions: bool = False
    include_contacts_and_contact_groups: bool = False


class TypeRule(_Model):
    type: ObjectType
    rule: Annotated[int, Field(ge=0, le=6)]


class ExportConfigurationObjects(_Model):
    rules: list[TypeRule] = Field(default_factory=lambda: [TypeRule(type=DEFAULT_TYPE, rule=RULE_RELATED)])
    objects: list[Hex32] = Field(default_factory=list, max_length=100_000)
    include_all_user_groups: bool = False
    # The SDK sends its conflict rules here as well as under import: accepted, used from import.
    conflict_rules: list[TypeRule] | None = None

    @model_validator(mode="after")
    def _check(self) -> ExportConfigurationObjects:
        seen: set[int] = set()
        for r in self.rules:
            if r.type not in (DEFAULT_TYPE, USER_TYPE):
                raise ValueError(f"export rules apply to types 5 and 34 only, not {r.type}")
            if r.rule > RULE_ALL:
                raise ValueError(f"export rule {r.rule} is not one of 0 (none), 1 (related), 2 (selected), 3 (all)")
            if r.type == DEFAULT_TYPE and r.rule not in (RULE_RELATED, RULE_ALL):
                raise ValueError("the type 5 (default) export rule must be 1 (project-related) or 3 (all)")
            if r.type in seen:
                raise ValueError(f"type {r.type} has more than one export rule")
            seen.add(r.type)
        if DEFAULT_TYPE not in seen:
            self.rules.append(TypeRule(type=DEFAULT_TYPE, rule=RULE_RELATED))
        return self

    def rule_for(self, object_type: int) -> int:
        """Type 34 has its own rule when given; everything else follows type 5."""
        by_type = {r.type: r.rule for r in self.rules}
        if object_type == USER_TYPE and USER_TYPE in by_type:
            return by_type[USER_TYPE]
        return by_type[DEFAULT_TYPE]


class ExportSettings(_Model):
    project_objects_preference: ProjectObjectsPreference = Field(default_factory=ProjectObjectsPreference)
    subscription_preferences: SubscriptionPreferences = Field(default_factory=SubscriptionPreferences)
    configuration_objects: ExportConfigurationObjects = Field(default_factory=ExportConfigurationObjects)


class ImportConfigurationObjects(_Model):
    conflict_rules: list[TypeRule] = Field(default_factory=list)
    match_users_by_login: bool = False

    @model_validator(mode="after")
    def _check(self) -> ImportConfigurationObjects:
        seen: set[int] = set()
        for r in self.conflict_rules:
            if r.rule not in (NO_RULE, USE_EXISTING, REPLACE, MERGE):
                raise ValueError(f"conflict rule {r.rule} is not one of 1 (use existing), 2 (replace), 6 (merge)")
            if r.type in seen:
                raise ValueError(f"type {r.type} has more than one conflict rule")
            seen.add(r.type)
        return self

    def rule_for(self, object_type: int) -> int:
        """The effective rule: the type's own, else type 0's, else use-existing; merge only where it
        means something (users and security roles), use-existing elsewhere."""
        by_type = {r.type: r.rule for r in self.conflict_rules if r.rule != NO_RULE}
        rule = by_type.get(object_type, by_type.get(ANY_TYPE, USE_EXISTING))
        if rule == MERGE and object_type not in MERGEABLE_TYPES:
            return USE_EXISTING
        return rule


class ImportSettings(_Model):
    description: Text | None = None  # None: the source project's description
    default_locale: Lcid = 0  # 0: the source project's default locale
    locales: list[Lcid] | None = Field(None, max_length=1000)  # None: [default_locale]; 0 = default
    configuration_objects: ImportConfigurationObjects = Field(default_factory=ImportConfigurationObjects)
    types_match_by_name: list[ObjectType] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _check(self) -> ImportSettings:
        if self.locales is None:
            self.locales = [self.default_locale]
        if self.default_locale not in self.locales:
            raise ValueError(f"defaultLocale {self.default_locale} must be one of locales {self.locales}")
        return self


class DuplicationSettings(_Model):
    export: ExportSettings = Field(default_factory=ExportSettings)
    import_: ImportSettings = Field(default_factory=ImportSettings, alias="import")


class DuplicationRequest(_Model):
    """POST (source or same environment) and PUT {id} (target) bodies."""

    source: Side
    target: Side
    settings: DuplicationSettings = Field(default_factory=DuplicationSettings)

    @model_validator(mode="after")
    def _check(self) -> DuplicationRequest:
        if not self.source.project.id:
            raise ValueError("source.project.id is required")
        if not self.target.project.name:
            raise ValueError("target.project.name is required")
        return self

    @property
    def same_environment(self) -> bool:
        return same_environment(self.source.environment.id, self.target.environment.id)


class TargetOnly(_Model):
    target: Side


class RestorationRequest(_Model):
    """The ``metadata`` part of POST /projectDuplications/restoration: the target and the import
    settings; the package says what the source was."""

    target: Side
    settings: DuplicationSettings = Field(default_factory=DuplicationSettings)

    @model_validator(mode="after")
    def _check(self) -> RestorationRequest:
        if not self.target.project.name:
            raise ValueError("target.project.name is required")
        return self


def same_environment(a: str, b: str) -> bool:
    """Environment ids are Library URLs: compared without case, scheme-insensitive trailing slash."""
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


# -- the record ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuplicationRecord:
    """One side's record, as every surface renders it. ``source``/``target`` are the request's
    sides as JSON with ``project.id`` filled once known and ``creator`` added; ``settings`` the
    request's with defaults filled (camelCase JSON)."""

    id: str
    role: Role
    operation_id: str
    source: dict[str, Any]
    target: dict[str, Any]
    creator: dict[str, str]  # {"id", "name"}
    created: dt.datetime
    updated: dt.datetime
    status: DuplicationStatus
    progress: int  # 0-100, 100 only when completed (or exported)
    message: str
    settings: dict[str, Any]


def login_id(login: str) -> str:
    """Strategy names users by a 32-hex id; envclone's have logins: the id derived from the login
    (stable, the same on every environment; the dialect renders users with the same)."""
    return hashlib.sha256(f"user\0{login}".encode()).hexdigest()[:32].upper()


def derived_project_id(dup_id: str) -> str:
    """The new project's id when the request asks none: derived from the duplication id, so that
    the source and the target of a cross-environment duplication show the same one."""
    return hashlib.sha256(f"project\0{dup_id.upper()}".encode()).hexdigest()[:32].upper()


_RUNNING_STATUS = {
    EXPORT_STEP: DuplicationStatus.EXPORTING,
    SYNC_OUT_STEP: DuplicationStatus.EXPORT_SYNCING,
    SYNC_IN_STEP: DuplicationStatus.IMPORT_SYNCING,
    IMPORT_STEP: DuplicationStatus.IMPORTING,
}


def status_of(role: Role, op: Operation) -> DuplicationStatus:
    """The document's status of one side, from its operation. The source has no ``cancelling``:
    a cancel there is shown as ``cancelled`` at once (the export stops at its next check)."""
    if op.status is OperationStatus.CANCELLED:
        return DuplicationStatus.CANCELLED
    if op.status is OperationStatus.SUCCEEDED:
        return DuplicationStatus.EXPORTED if role is Role.SOURCE else DuplicationStatus.COMPLETED
    if op.status is OperationStatus.FAILED:
        if role is Role.SOURCE:
            return DuplicationStatus.EXPORT_FAILED
        if role is Role.LOCAL and op.step(EXPORT_STEP).result is not StepResult.SUCCESS:
            return DuplicationStatus.EXPORT_FAILED
        return DuplicationStatus.IMPORT_FAILED
    if op.cancel_requested:
        return DuplicationStatus.CANCELLED if role is Role.SOURCE else DuplicationStatus.CANCELLING
    current = next((s for s in op.steps if not s.result.is_terminal), None)
    return _RUNNING_STATUS[current.key] if current is not None else _RUNNING_STATUS[op.steps[-1].key]


def progress_of(op: Operation, now: dt.datetime) -> int:
    """0-100 as Strategy shows it: whole percent, 100 only once the side has succeeded."""
    percent = op.progress_view(now).percent
    return 100 if op.status is OperationStatus.SUCCEEDED else min(99, int(percent))
