"""Strategy Library request and response bodies, in Strategy's camelCase. Requests ignore fields
envclone has no use for (the SDK sends ``workingSet``, ``maxSearch``, locales); responses are
declared so that OpenAPI shows Strategy's shapes. The duplication request itself is the domain's
(``envclone.domain.duplication``): its tree is Strategy's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

STANDARD_LOGIN = 1  # Strategy's loginMode for a user name and password


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class LoginRequest(_Body):
    """POST /auth/login, as JSON or as a form."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    username: str = Field(min_length=1, max_length=255)
    password: SecretStr = Field(default=SecretStr(""), max_length=1024)
    login_mode: int = Field(STANDARD_LOGIN, description="1 (standard) is the only mode envclone offers")
    application_type: int | None = Field(
        None, description="35 (Web) or 76 (Python), the SDK's: duplication statuses in upper case for this session"
    )


class Status(_Body):
    i_server_version: str = Field(alias="iServerVersion")
    web_version: str
    envclone_version: str


class Owner(_Body):
    id: str
    name: str


class Project(_Body):
    id: str
    name: str
    alias: str = ""
    description: str = ""
    status: int = Field(0, description="0: loaded")
    owner: Owner


class ProjectList(_Body):
    projects: list[Project]


class ProjectObject(_Body):
    """A project seen as a metadata object (GET /objects/{id}?type=32)."""

    id: str
    name: str
    type: int = 32
    subtype: int = 8448
    description: str = ""
    abbreviation: str = ""
    hidden: bool = False
    ext_type: int = 0
    owner: Owner


class SessionInfo(_Body):
    id: str = Field(description="the user's id")
    username: str
    full_name: str
    initials: str
    locale: int = 1033
    max_search: int = 3
    working_set: int = 10
    timeout: int = Field(description="seconds a session lives after login or renewal")


class UserInfo(_Body):
    metadata_user: bool = True
    id: str
    name: str
    username: str
    full_name: str
    initials: str
    default_email_address: str = ""


class ErrorBody(_Body):
    code: str = Field(description="ERR003 failed login, ERR009 no or expired session, or the table's codes")
    message: str
    ticket_id: str
    i_server_code: int | None = Field(None, alias="iServerCode")


# -- project duplication ---------------------------------------------------------------------------
STATUS_VALUES = (
    "source: exporting, export_syncing, exported, export_failed, cancelled; target: import_syncing, importing,"
    " completed, import_failed, cancelling, cancelled (upper case for SDK sessions)"
)


class Named(_Body):
    id: str
    name: str = ""


class DuplicationProject(_Body):
    id: str | None = Field(None, description="null until the target project's id is known")
    name: str | None = None


class DuplicationSide(_Body):
    environment: Named
    project: DuplicationProject
    creator: Named


class Duplication(_Body):
    """One side's record of a project duplication (source, target, or both in one environment)."""

    id: str
    source: DuplicationSide
    target: DuplicationSide
    created_date: str = Field(description="Strategy's form, 2025-05-20T02:30:24.632+0000")
    last_updated_date: str
    status: str = Field(description=STATUS_VALUES)
    progress: int = Field(ge=0, le=100)
    message: str = ""
    settings: dict[str, Any] = Field(description="the request's settings with defaults filled ('export', 'import')")


class DuplicationList(_Body):
    project_duplications: list[Duplication]
    duplications: list[Duplication] = Field(description="the same list, under the key mstrio-py reads")
    total: int


class DuplicationVersions(_Body):
    """What a target checks of a source (POST /projectDuplications/validations takes it back)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    i_server_version: str = Field(alias="iServerVersion")
    web_version: str
    package_version: int = Field(description="envclone's project package format")
    metadata_type: str = Field(description="envclone: packages of envclone environments")


class StatusChange(_Body):
    """PUT /projectDuplications/{id}[/status]: the only change a client may ask is a cancel."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    status: str = Field(max_length=32, description="cancelled (any case)")


# -- storage service ---------------------------------------------------------------------------------
StorageType = Literal["unset", "unknown", "file_system", "S3", "Azure", "GCS"]


class SharedFileStore(_Body):
    """The Storage Service configuration as shown: secrets are never returned."""

    type: str
    alias: str | None = None
    location: str | None = None
    s3_region: str | None = None
    configured: bool


class StorageConfig(_Body):
    shared_file_store: SharedFileStore


class SharedFileStoreChange(_Body):
    """POST .../storage/validation and PATCH .../storage: ``configured`` (sent back by the SDK)
    is ignored; secrets are taken and never shown again."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True)

    type: StorageType
    alias: str | None = Field(None, max_length=255)
    location: str | None = Field(None, max_length=4096, description="a folder for file_system, a bucket for S3")
    s3_region: str | None = Field(None, max_length=64)
    aws_access_id: str | None = Field(None, max_length=256)
    aws_secret_key: SecretStr | None = Field(None, max_length=1024)
    azure_storage_account_name: str | None = Field(None, max_length=256)
    azure_secret_key: SecretStr | None = Field(None, max_length=1024)
    gcs_service_account_key: SecretStr | None = Field(None, max_length=65536)
    configured: bool | None = None

    def to_service(self) -> dict[str, Any]:
        """The configuration in the services' camelCase, secrets revealed, unset fields left out."""
        shown = self.model_dump(by_alias=True, exclude_none=True, exclude={"configured"})
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in shown.items()}


class StorageChange(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True)

    shared_file_store: SharedFileStoreChange
