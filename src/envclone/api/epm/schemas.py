"""EPM request bodies. Booleans arrive as JSON booleans or as the strings "true"/"false" (the
documents' own samples use both); option names have aliases where Oracle renamed them. The
documents' parameter tables list the options beside the top-level fields while their samples nest
them under ``parameters``: both forms are accepted, the nested value winning."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from envclone.domain.clone import OPTION_NAMES, CloneRequest
from envclone.domain.restore import RestoreRequest


def _lifted(data: Any, names: frozenset[str]) -> Any:
    """The body with options given at the top level moved under ``parameters`` (a nested value
    wins); a null ``parameters`` or a null option means "not given"."""
    if not isinstance(data, dict):
        return data
    nested = data.get("parameters")
    if nested is None:
        nested = {}
    if not isinstance(nested, dict):
        return data  # let validation report it
    top = {k: v for k, v in data.items() if k in names and v is not None}
    given = {k: v for k, v in nested.items() if v is not None}
    return {**{k: v for k, v in data.items() if k not in names}, "parameters": {**top, **given}}


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(f"must be true or false, not {value!r}")
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


EpmBool = Annotated[bool, BeforeValidator(_boolean)]


class Lenient(BaseModel):
    # Oracle ignores fields it does not know; scripts written for newer releases send extra ones.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RestoreParameters(Lenient):
    users_and_roles: EpmBool = Field(False, alias="usersAndPreDefinedRoles")
    users_and_application_roles: EpmBool | None = Field(None, alias="usersAndApplicationRoles")
    daily_maintenance_start_time: EpmBool = Field(True, alias="dailyMaintenanceStartTime")
    stored_snapshots_and_files: EpmBool = Field(False, alias="storedSnapshotsAndFiles")

    @property
    def restore_users(self) -> bool:
        if self.users_and_application_roles is not None:
            return self.users_and_application_roles
        return self.users_and_roles


RESTORE_OPTIONS = frozenset(
    {"usersAndPreDefinedRoles", "usersAndApplicationRoles", "dailyMaintenanceStartTime", "storedSnapshotsAndFiles"}
)


class RestoreEnvironmentRequest(Lenient):
    backup_name: Annotated[str, StringConstraints(min_length=1, max_length=250)] = Field(alias="backupName")
    parameters: RestoreParameters = Field(default_factory=RestoreParameters)

    @model_validator(mode="before")
    @classmethod
    def _options_beside(cls, data: Any) -> Any:
        return _lifted(data, RESTORE_OPTIONS)

    def to_request(self) -> RestoreRequest:
        params = self.parameters
        return RestoreRequest(
            backup_name=self.backup_name,
            users=params.restore_users,
            maintenance_start_time=params.daily_maintenance_start_time,
            stored_snapshots_and_files=params.stored_snapshots_and_files,
        )


class RestoreBackupParameters(Lenient):
    target_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, alias="targetName"
    )


class RestoreBackupRequest(Lenient):
    backup_name: Annotated[str, StringConstraints(min_length=1, max_length=250)] = Field(alias="backupName")
    target_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, alias="targetName"
    )
    parameters: RestoreBackupParameters | None = None

    @property
    def target(self) -> str | None:
        return self.target_name or (self.parameters.target_name if self.parameters else None)


class MaintenanceStartTime(Lenient):
    """v2 body ``{"startTime": "14:00 America/Los_Angeles"}``: the zone may follow the time."""

    start_time: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(
        validation_alias=AliasChoices("startTime", "StartTime")
    )

    def split(self) -> tuple[str, str | None]:
        time, _, zone = self.start_time.strip().partition(" ")
        return time, zone.strip() or None


class RunMaintenance(Lenient):
    skip_next: EpmBool = Field(False, alias="skipNext")


class CloneParameters(Lenient):
    snapshot_name: Annotated[str, StringConstraints(max_length=250)] | None = Field(None, alias="snapshotName")
    environment_backup: EpmBool = Field(False, alias="environmentBackup")
    migrate_users: EpmBool | None = Field(
        None, validation_alias=AliasChoices("migrateUsers", "usersAndPreDefinedRoles")
    )
    maintenance_start_time: EpmBool | None = Field(None, alias="maintenanceStartTime")
    data_management: EpmBool | None = Field(None, alias="dataManagement")
    job_console: EpmBool | None = Field(None, alias="jobConsole")
    application_audit: EpmBool | None = Field(None, alias="applicationAudit")
    stored_snapshots_and_files: EpmBool | None = Field(None, alias="storedSnapshotsAndFiles")
    app_properties: EpmBool | None = Field(None, alias="appProperties")

    def options(self) -> dict[str, bool]:
        """Only the options the caller gave; the rest take the documented defaults later."""
        given = {
            "migrateUsers": self.migrate_users,
            "maintenanceStartTime": self.maintenance_start_time,
            "dataManagement": self.data_management,
            "jobConsole": self.job_console,
            "applicationAudit": self.application_audit,
            "storedSnapshotsAndFiles": self.stored_snapshots_and_files,
            "appProperties": self.app_properties,
        }
        return {name: value for name, value in given.items() if value is not None}


# Every clone option, plus the choice of archive and the option's older name for migrateUsers.
CLONE_OPTIONS = frozenset(OPTION_NAMES | {"snapshotName", "environmentBackup", "usersAndPreDefinedRoles"})


class CloneRequestBody(Lenient):
    # The document spells the user field both "targetUserName" (sample) and "targetUsername" (table).
    target_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(alias="targetURL")
    target_user: Annotated[str, StringConstraints(min_length=1, max_length=250)] = Field(
        validation_alias=AliasChoices("targetUserName", "targetUsername")
    )
    target_password: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        alias="targetEncryptPassword", repr=False
    )
    parameters: CloneParameters = Field(default_factory=CloneParameters)

    @model_validator(mode="before")
    @classmethod
    def _options_beside(cls, data: Any) -> Any:
        return _lifted(data, CLONE_OPTIONS)

    def to_request(self) -> CloneRequest:
        """Everything but the password, which stays in the body until it is decoded."""
        params = self.parameters
        return CloneRequest(
            target_url=self.target_url,
            target_user=self.target_user,
            snapshot_name=params.snapshot_name,
            environment_backup=params.environment_backup,
            options=params.options(),
        )


# --- responses ---------------------------------------------------------------------------------
# Oracle's envelope, for OpenAPI only: routes return plain dicts and these models document them.
class Link(BaseModel):
    href: str
    rel: str
    data: Any = None
    action: str


class Envelope(BaseModel):
    """Every answer, errors included: ``status`` -1 running, 0 done, above 0 a Migration Status Code."""

    details: str | None
    status: int = Field(ge=-1)
    items: Any
    links: list[Link] | None


class ErrorEnvelope(Envelope):
    details: str
    status: int = Field(ge=1)


class JobStarted(Envelope):
    intermittentStatus: None = None  # noqa: N815 (Oracle's name)


class JobStatus(Envelope):
    intermittentStatus: list[dict[str, Literal["In Progress", "Success", "Failed", "NA"]]] | None  # noqa: N815


class BackupList(Envelope):
    items: list[str]


class MaintenanceTime(Envelope):
    version: str
    dailyMaintenanceStartTime: str  # noqa: N815
    timeZone: str  # noqa: N815


class StoredItem(BaseModel):
    name: str
    type: Literal["LCM", "EXTERNAL"]
    size: str
    lastmodifiedtime: str | None


class StoredList(Envelope):
    items: list[StoredItem]


class StoredDetails(BaseModel):
    name: str
    type: Literal["LCM", "EXTERNAL"]
    canexport: bool
    canimport: bool
    canupload: bool
    candownload: bool


class StoredDetailsList(Envelope):
    items: list[StoredDetails]


class StepDetail(BaseModel):
    message: str
    result: Literal["inProgress", "success", "failed", "NA"]
    failureDetails: Any = None  # noqa: N815


class CloneStatus(JobStatus):
    backupName: str | None  # noqa: N815
    backupCreatedTime: str | None  # noqa: N815
    cloneStartTime: str | None  # noqa: N815
    cloneCompletedTime: str | None  # noqa: N815
    statusDetails: list[StepDetail] | None  # noqa: N815


class RestoredBackup(BaseModel):
    backupName: str | None  # noqa: N815
    targetName: str | None  # noqa: N815


class RestoreBackupStatus(JobStatus):
    items: list[RestoredBackup] | None
