"""Strategy Library request and response bodies, in Strategy's camelCase. Requests ignore fields
envclone has no use for (the SDK sends ``workingSet``, ``maxSearch``, locales); responses are
declared so that OpenAPI shows Strategy's shapes."""

from __future__ import annotations

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
    application_type: int | None = Field(None, description="accepted and kept out of the way (35 Web, 76 Python)")


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
