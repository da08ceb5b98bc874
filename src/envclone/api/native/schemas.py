"""Request bodies of the native API. Limits here are what "oversized" means for a field; unknown
fields are refused so that typos do not pass silently, and types are strict: "44" is not an
integer and true is not 1."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

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
    definition: Json = Field(default_factory=dict)


class JobUpdate(Strict):
    name: Name | None = None
    description: Text | None = None
    repository_uid: Short | None = None
    folder_name: Short | None = None
    schedule_enabled: bool | None = None
    definition: Json | None = None


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
