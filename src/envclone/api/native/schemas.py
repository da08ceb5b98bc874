"""Request bodies of the native API. Limits here are what "oversized" means for a field; unknown
fields are refused so that typos do not pass silently, and types are strict: "44" is not an
integer and true is not 1."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from envclone.domain.clock import naive_utc
from envclone.domain.limits import INT32_MAX, INT32_MIN

MAX_DEFINITION_BYTES = 1024 * 1024


def _bounded_json(value: Any) -> Any:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_DEFINITION_BYTES:
        raise ValueError(f"must be at most {MAX_DEFINITION_BYTES} bytes of JSON")
    return value


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return naive_utc(value) if value is not None else None  # ValueError outside years 1-9999 in UTC


Name = Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
Short = Annotated[str, StringConstraints(max_length=250)]
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{32}$"), AfterValidator(str.upper)]
Json = Annotated[Any, AfterValidator(_bounded_json)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
LocaleId = Annotated[int, Field(ge=1, le=99999)]
ObjectType = Annotated[int, Field(ge=-1, le=100000)]
Subtype = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]  # the column is 32-bit
Kind = Literal["user", "group"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UserCreate(Strict):
    login: Name
    display_name: Short = ""
    email: Short = ""
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    enabled: bool = True

    def values(self) -> dict[str, Any]:
        return self.model_dump()


class UserUpdate(Strict):
    display_name: Short | None = None
    email: Short | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    enabled: bool | None = None


class GroupCreate(Strict):
    name: Name
    description: Text = ""


class GroupUpdate(Strict):
    description: Text


class MemberCreate(Strict):
    member_kind: Kind
    member_name: Name


class RoleCreate(Strict):
    name: Name
    description: Text = ""


class RoleUpdate(Strict):
    description: Text


class AssignmentCreate(Strict):
    principal_kind: Kind
    principal_name: Name
    role_name: Name


class ProjectCreate(Strict):
    id: Hex32 | None = None
    name: Name
    description: Text = ""
    default_locale: LocaleId = 1033
    owner: Short = ""


class ProjectUpdate(Strict):
    name: Name | None = None
    description: Text | None = None
    default_locale: LocaleId | None = None
    owner: Short | None = None


class ObjectCreate(Strict):
    id: Hex32 | None = None
    type: ObjectType
    subtype: Subtype = 0
    name: Name
    folder_path: Text = "/"
    is_schema: bool = False
    owner: Short = ""
    definition: Json = Field(default_factory=dict)
    acl: Json = Field(default_factory=list)
    translations: dict[Annotated[str, StringConstraints(pattern=r"^\d{1,5}$")], Json] = Field(default_factory=dict)


class ObjectUpdate(Strict):
    type: ObjectType | None = None
    subtype: Subtype | None = None
    name: Name | None = None
    folder_path: Text | None = None
    is_schema: bool | None = None
    owner: Short | None = None
    definition: Json | None = None
    acl: Json | None = None
    translations: dict[Annotated[str, StringConstraints(pattern=r"^\d{1,5}$")], Json] | None = None


class ProfileFolderCreate(Strict):
    id: Hex32 | None = None
    owner: Name
    name: Name


class ProfileFolderUpdate(Strict):
    name: Name


class SubscriptionCreate(Strict):
    id: Hex32 | None = None
    name: Name
    kind: Kind | Literal["contact"]
    owner: Short = ""
    recipient: Name
    object_id: Hex32 | None = None
    schedule: Short = ""
    definition: Json = Field(default_factory=dict)


class SubscriptionUpdate(Strict):
    name: Name | None = None
    owner: Short | None = None
    recipient: Name | None = None
    object_id: Hex32 | None = None
    schedule: Short | None = None
    definition: Json | None = None


class ConfigObjectCreate(Strict):
    id: Hex32 | None = None
    type: ObjectType
    subtype: Subtype = 0
    name: Name
    description: Text = ""
    definition: Json = Field(default_factory=dict)


class ConfigObjectUpdate(Strict):
    subtype: Subtype | None = None
    name: Name | None = None
    description: Text | None = None
    definition: Json | None = None


_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class RepositoryCreate(Strict):
    uid: Annotated[str, StringConstraints(pattern=rf"^urn:veeam:Repository:{_UUID}$")] | None = None
    name: Name
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "local"
    path: Text = ""
    description: Text = ""


class RepositoryUpdate(Strict):
    name: Name | None = None
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    path: Text | None = None
    description: Text | None = None


JobType = Literal["Backup", "Replica", "BackupCopy", "ImmediateBackupCopy"]


class JobCreate(Strict):
    uid: Annotated[str, StringConstraints(pattern=rf"^urn:veeam:Job:{_UUID}$")] | None = None
    name: Name
    job_type: JobType
    description: Text = ""
    repository_uid: Short | None = None
    folder_name: Short = ""
    schedule_enabled: bool = False
    # An object: the Veeam dialect reads its settings by name (a list or a number would break it).
    definition: JsonObject = Field(default_factory=dict)


class JobUpdate(Strict):
    name: Name | None = None
    description: Text | None = None
    repository_uid: Short | None = None
    folder_name: Short | None = None
    schedule_enabled: bool | None = None
    definition: JsonObject | None = None


class RecordIn(Strict):
    ts: Annotated[dt.datetime | None, Field(strict=False), AfterValidator(_utc)] = None  # ISO 8601 text
    actor: Short = ""
    action: Short = ""
    subject: Short = ""
    status: Annotated[str, StringConstraints(max_length=32)] = ""
    details: JsonObject = Field(default_factory=dict)


class Batch(Strict):
    items: list[dict[str, Any]] = Field(max_length=50000)


class SettingsUpdate(Strict):
    maintenance_start_time: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = None
    maintenance_time_zone: Short | None = None
    email_notifications: bool | None = None
    redwood_experience: bool | None = None
    theme: Short | None = None
    business_process_name: Short | None = None
    user_fencing: bool | None = Field(None, description="Strategy's user fencing: project duplication refuses while on")


class TokenRequest(Strict):
    grant_type: Literal["password"] = "password"
    username: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    scope: str | None = None


T = TypeVar("T")


# --- responses ---------------------------------------------------------------------------------
# What the native API answers, for OpenAPI only: routes return plain dicts and these models
# document them (``responses={200: {"model": ...}}``), so that a response breaking its schema
# fails the schemathesis check instead of being silently reshaped by FastAPI. Fields that a later
# version may add are allowed: clients must ignore what they do not know.
ISO = Annotated[str, Field(description="ISO 8601 date and time")]


class ErrorDetail(BaseModel):
    code: str = Field(description="stable: not_authenticated, forbidden, not_found, conflict, invalid_request...")
    message: str
    details: Any = Field(None, description="for invalid_request, the fields at fault")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Created(BaseModel):
    created: int = Field(ge=0)


class User(BaseModel):
    # Nothing else: a password hash, or any field added later by mistake, breaks the contract.
    model_config = ConfigDict(extra="forbid")

    login: str
    display_name: str
    email: str
    enabled: bool
    has_password: bool


class Group(BaseModel):
    name: str
    description: str


class Member(BaseModel):
    group_name: str
    member_kind: Kind
    member_name: str


class Role(BaseModel):
    name: str
    kind: Literal["predefined", "granular", "application"]
    description: str


class Assignment(BaseModel):
    principal_kind: Kind
    principal_name: str
    role_name: str


class Project(BaseModel):
    id: str
    name: str
    description: str
    default_locale: int
    owner: str


class MetadataObject(BaseModel):
    project_id: str
    id: str
    type: int
    subtype: int
    name: str
    folder_path: str
    is_schema: bool
    owner: str
    definition: Any
    acl: Any
    translations: dict[str, Any]


class ProfileFolder(BaseModel):
    project_id: str
    id: str
    owner: str
    name: str


class Subscription(BaseModel):
    project_id: str
    id: str
    name: str
    kind: str
    owner: str
    recipient: str
    object_id: str | None
    schedule: str
    definition: Any


class ConfigObject(BaseModel):
    id: str
    type: int
    subtype: int
    name: str
    description: str
    definition: Any


class Repository(BaseModel):
    uid: str
    name: str
    kind: str
    path: str
    description: str


class Job(BaseModel):
    uid: str
    name: str
    job_type: str
    description: str
    repository_uid: str | None
    folder_name: str
    schedule_enabled: bool
    definition: dict[str, Any]


class Record(BaseModel):
    """One record of the component the path names."""

    seq: int
    ts: ISO
    actor: str
    action: str
    subject: str
    status: str
    details: dict[str, Any]


class StoredFile(BaseModel):
    area: str
    name: str
    size: int = Field(ge=0)
    hash: str
    modified: ISO


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


class Token(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    expires_at: ISO


class WhoAmI(BaseModel):
    login: str
    roles: list[str]


class Environment(BaseModel):
    instance_id: str
    name: str
    service_type: str
    version: str
    locale: str
    software: str


class Digest(BaseModel):
    environment: str
    components: dict[str, str]


class Image(BaseModel):
    hash: str
    size: int = Field(ge=0)
    content_type: str


class Settings(Environment):
    maintenance_start_time: str
    maintenance_time_zone: str
    email_notifications: bool
    redwood_experience: bool
    theme: str
    business_process_name: str
    user_fencing: bool
    logo_image: Image | None
    background_image: Image | None


class StepView(BaseModel):
    key: str
    result: Literal["pending", "inProgress", "success", "failed", "NA"]
    message: str
    details: Any = None
    started: ISO | None = None
    ended: ISO | None = None


class OperationError(BaseModel):
    code: str
    message: str | None


class Operation(BaseModel):
    id: str
    number: int
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    parameters: dict[str, Any]
    steps: list[StepView]
    progress: dict[str, Any]
    result: dict[str, Any]
    error: OperationError | None
    created: ISO
    started: ISO | None
    ended: ISO | None
    created_by: str
    locale: str


class Backup(BaseModel):
    name: str
    kind: Literal["environment_backup", "artifact_snapshot"]
    manifest_id: str
    created: ISO
    size: int = Field(ge=0)
    components: Any
    digests: dict[str, Any]
    source: dict[str, Any]
    verified: ISO | None
    verify_result: Any


class Backups(BaseModel):
    items: list[Backup]


class Verification(BaseModel):
    name: str
    verified: ISO | None
    result: Any


class StartTime(BaseModel):
    start_time: str
    time_zone: str


class ComponentReport(BaseModel):
    """What a clone changed in one component, row by row."""

    before: int = Field(ge=0)
    after: int = Field(ge=0)
    created: int = Field(ge=0)
    replaced: int = Field(ge=0)
    removed: int = Field(ge=0)
    unchanged: int = Field(ge=0)
    objects: dict[Literal["created", "replaced", "removed"], list[str]] = Field(description="the keys, each list whole")


# A finished clone's change report: one entry per component it transferred.
ChangeReport = dict[str, ComponentReport]


# A request body of raw bytes (file and image uploads, chunks, manifests), streamed by the route.
BYTES_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
