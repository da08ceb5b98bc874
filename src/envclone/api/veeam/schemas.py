"""Enterprise Manager request and response bodies in Veeam's element names. One model per shape
serves both renderings: JSON as pydantic dumps it, XML through ``xmlcodec`` (which fields are
attributes is each model's ``xml_attributes``). Requests accept Veeam's names only."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_pascal

from envclone.domain.job_clone import FIELD_LIMIT, NAME_LIMIT, TEXT_LIMIT, JobCloneRequest, JobType
from envclone.errors import InvalidRequest

NAMESPACE = "http://www.veeam.com/ent/v1.0"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class Wire(BaseModel):
    """A response body: built by field name, shown by Veeam's name."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True)
    xml_attributes: ClassVar[frozenset[str]] = frozenset()


# --- responses -------------------------------------------------------------------------------------
class Link(Wire):
    xml_attributes = frozenset({"Rel", "Href", "Type", "Name"})

    rel: str
    href: str
    type: str
    name: str | None = None


class Ref(Wire):
    """An entity reference (``?format=Entity`` gives the entity itself)."""

    xml_attributes = frozenset({"UID", "Name", "Href", "Type"})

    uid: str = Field(alias="UID")
    name: str
    href: str
    type: str
    links: list[Link]


class EntityReferences(Wire):
    refs: list[Ref]


class Job(Wire):
    """A job entity: Veeam's header (JobType, Description, schedule flags), then envclone's job
    settings (where it writes, under which name, the rest of its definition as ``Options``)."""

    xml_attributes = frozenset({"Href", "Type", "Name", "UID"})

    href: str
    type: str = "Job"
    name: str
    uid: str = Field(alias="UID")
    links: list[Link]
    job_type: str
    description: str
    schedule_configured: bool
    schedule_enabled: bool
    repository_uid: str | None = None
    folder_name: str | None = None
    vm_suffix: str | None = None
    options: dict[str, Any] = Field(description="the rest of the job's definition, as it is stored")


class Jobs(Wire):
    jobs: list[Job]


class Repository(Wire):
    xml_attributes = frozenset({"Href", "Type", "Name", "UID"})

    href: str
    type: str = "Repository"
    name: str
    uid: str = Field(alias="UID")
    links: list[Link]
    capacity: int = Field(description="bytes")
    free_space: int = Field(description="bytes")
    kind: str
    description: str


class Repositories(Wire):
    repositories: list[Repository]


class BackupJobSession(Wire):
    """One run of a job (Veeam's backup job session)."""

    xml_attributes = frozenset({"Href", "Type", "Name", "UID"})

    href: str
    type: str = "BackupJobSession"
    name: str
    uid: str = Field(alias="UID")
    links: list[Link]
    job_uid: str
    job_name: str
    job_type: str
    creation_time_utc: str = Field(alias="CreationTimeUTC")
    end_time_utc: str | None = Field(None, alias="EndTimeUTC")
    state: str = Field(description="Starting, Working or Stopped")
    result: str = Field(description="None while it runs, then Success or Failed")
    progress: int = Field(description="percent")
    is_retry: bool = False


class BackupJobSessions(Wire):
    backup_job_sessions: list[BackupJobSession]


class TaskResult(Wire):
    xml_attributes = frozenset({"Success"})

    success: bool
    message: str


class Task(Wire):
    xml_attributes = frozenset({"Type", "Href"})

    type: str = "Task"
    href: str
    links: list[Link]
    task_id: str
    state: str = Field(description="Running or Finished")
    operation: str
    result: TaskResult | None = None


class LogonSession(Wire):
    xml_attributes = frozenset({"Href", "Type"})

    href: str
    type: str = "LogonSession"
    links: list[Link]
    user_name: str
    session_id: str


class LogonSessions(Wire):
    logon_sessions: list[LogonSession]


class SupportedVersion(Wire):
    xml_attributes = frozenset({"Name"})

    name: str
    links: list[Link]


class EnterpriseManager(Wire):
    xml_attributes = frozenset({"Href", "Type"})

    href: str
    type: str = "EnterpriseManager"
    supported_versions: list[SupportedVersion]
    links: list[Link]


class Error(Wire):
    xml_attributes = frozenset({"Message", "StatusCode"})

    message: str
    status_code: int


# --- requests --------------------------------------------------------------------------------------
class Request(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=False, extra="forbid")


JobName = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LIMIT)]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=FIELD_LIMIT)]
Description = Annotated[str, StringConstraints(max_length=TEXT_LIMIT)]
RepositoryUid = Annotated[str, StringConstraints(pattern=rf"^urn:veeam:Repository:{_UUID}$")]


class _CloneInfo(Request):
    job_name: JobName = Field(description="the new job's name, up to 50 characters, unique")
    description: Description | None = None


class BackupJobCloneInfo(_CloneInfo):
    folder_name: FileName = Field(description="the backup file the new job creates")
    repository_uid: RepositoryUid

    def request(self, source_uid: str) -> JobCloneRequest:
        return JobCloneRequest(
            source_uid=source_uid,
            job_type=JobType.BACKUP,
            name=self.job_name,
            description=self.description,
            folder_name=self.folder_name,
            repository_uid=self.repository_uid,
        )


class ReplicaJobCloneInfo(_CloneInfo):
    vm_suffix: FileName = Field(description="the suffix of the replica the new job creates")

    def request(self, source_uid: str) -> JobCloneRequest:
        return JobCloneRequest(
            source_uid=source_uid,
            job_type=JobType.REPLICA,
            name=self.job_name,
            description=self.description,
            vm_suffix=self.vm_suffix,
        )


class BackupCopyJobCloneInfo(_CloneInfo):
    job_file_name: FileName = Field(description="the backup file the new job creates")
    repository_uid: RepositoryUid
    job_type: ClassVar[JobType] = JobType.BACKUP_COPY

    def request(self, source_uid: str) -> JobCloneRequest:
        return JobCloneRequest(
            source_uid=source_uid,
            job_type=self.job_type,
            name=self.job_name,
            description=self.description,
            folder_name=self.job_file_name,
            repository_uid=self.repository_uid,
        )


class ImmediateBackupCopyJobCloneInfo(BackupCopyJobCloneInfo):
    job_type: ClassVar[JobType] = JobType.IMMEDIATE_BACKUP_COPY


CloneInfo = BackupJobCloneInfo | ReplicaJobCloneInfo | BackupCopyJobCloneInfo


class JobCloneSpec(Request):
    """Exactly one clone info, of the source job's kind."""

    backup_job_clone_info: BackupJobCloneInfo | None = None
    replica_job_clone_info: ReplicaJobCloneInfo | None = None
    backup_copy_job_clone_info: BackupCopyJobCloneInfo | None = None
    immediate_backup_copy_job_clone_info: ImmediateBackupCopyJobCloneInfo | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> JobCloneSpec:
        if len(self._given()) != 1:
            names = ", ".join(f.alias or n for n, f in type(self).model_fields.items())
            raise ValueError(f"a JobCloneSpec holds exactly one of {names}")
        return self

    def _given(self) -> list[CloneInfo]:
        infos = (
            self.backup_job_clone_info,
            self.replica_job_clone_info,
            self.backup_copy_job_clone_info,
            self.immediate_backup_copy_job_clone_info,
        )
        return [info for info in infos if info is not None]

    def request(self, source_uid: str) -> JobCloneRequest:
        try:
            return self._given()[0].request(source_uid)
        except ValueError as exc:  # a rule of the domain request (pydantic's ValidationError)
            raise InvalidRequest(str(exc)) from None
