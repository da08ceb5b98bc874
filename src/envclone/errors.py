"""Error classes, each with a stable code and an HTTP status. The docstring is the default message.
Dialects map these to their own shapes; nothing here knows a dialect."""

from __future__ import annotations

from typing import Any


class EnvcloneError(Exception):
    """An unexpected error occurred."""

    code = "internal_error"
    status = 500
    exit_code = 1

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.details = details
        super().__init__(self.message)


class InvalidRequest(EnvcloneError):
    """The request is not valid."""

    code = "invalid_request"
    status = 422
    exit_code = 2


class MalformedJson(InvalidRequest):
    """The request body is not valid JSON."""

    code = "malformed_json"
    status = 400


class PayloadTooLarge(InvalidRequest):
    """The request body or a field in it is too large."""

    code = "payload_too_large"
    status = 413


class InvalidFileName(InvalidRequest):
    """The file name is not allowed."""

    code = "invalid_file_name"
    status = 400


class NotAuthenticated(EnvcloneError):
    """Authentication is required: send HTTP Basic credentials or a bearer token."""

    code = "not_authenticated"
    status = 401
    exit_code = 3


class InvalidCredentials(NotAuthenticated):
    """The user name or password is incorrect, or the token has expired."""

    code = "invalid_credentials"


class Forbidden(EnvcloneError):
    """The user does not have a role that allows this action."""

    code = "forbidden"
    status = 403
    exit_code = 3


class NotFound(EnvcloneError):
    """The requested item does not exist."""

    code = "not_found"
    status = 404
    exit_code = 4


class Conflict(EnvcloneError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409
    exit_code = 5


class ConfigError(EnvcloneError):
    """The configuration is not valid."""

    code = "invalid_config"
    status = 500
    exit_code = 2
