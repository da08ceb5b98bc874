"""Error classes, each with a stable code and an HTTP status. The docstring is the default message.
Dialects map these to their own shapes; nothing here knows a dialect."""

from __future__ import annotations

from typing import Any


class EnvcloneError(Exception):
    """An unexpected error occurred."""

    code = "internal_error"
    status = 500
    exit_code = 1

    def __init_subclass__(
        cls, *, code: str | None = None, status: int | None = None, exit_code: int | None = None
    ) -> None:
        # Declared in the class line (``class NotFound(EnvcloneError, code=..., status=404)``);
        # what a subclass leaves out it inherits.
        super().__init_subclass__()
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.details = details
        super().__init__(self.message)


class InvalidRequest(EnvcloneError, code="invalid_request", status=422, exit_code=2):
    """The request is not valid."""


class MalformedJson(InvalidRequest, code="malformed_json", status=400):
    """The request body is not valid JSON."""


class PayloadTooLarge(InvalidRequest, code="payload_too_large", status=413):
    """The request body or a field in it is too large."""


class InvalidFileName(InvalidRequest, code="invalid_file_name", status=400):
    """The file name is not allowed."""


class NotAuthenticated(EnvcloneError, code="not_authenticated", status=401, exit_code=3):
    """Authentication is required: send HTTP Basic credentials or a bearer token."""


class InvalidCredentials(NotAuthenticated, code="invalid_credentials"):
    """The user name or password is incorrect, or the token has expired."""


class TooManyAttempts(EnvcloneError, code="too_many_attempts", status=429, exit_code=3):
    """Too many failed logins: wait before trying again."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))  # whole seconds, as Retry-After takes them
        super().__init__(f"too many failed logins: try again in {self.retry_after} seconds")


class Forbidden(EnvcloneError, code="forbidden", status=403, exit_code=3):
    """The user does not have a role that allows this action."""


class NotFound(EnvcloneError, code="not_found", status=404, exit_code=4):
    """The requested item does not exist."""


class Conflict(EnvcloneError, code="conflict", status=409, exit_code=5):
    """The request conflicts with the current state."""


class NotCancellable(Conflict, code="not_cancellable"):
    """The operation can no longer be cancelled."""


class DiskFull(EnvcloneError, code="disk_full", status=507):
    """No space is left on the disk that holds the data directory; free some and try again."""


class ConfigError(EnvcloneError, code="invalid_config", status=500, exit_code=2):
    """The configuration is not valid."""
