"""Strategy error bodies: ``code``, ``message``, ``ticketId`` and ``iServerCode``, with the codes
of Strategy's documents (ERR003, ERR009 and the project duplication table). Which envclone error
becomes which code and status is the table below; nothing else here decides."""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from envclone.errors import EnvcloneError, InvalidRequest, NotFound

log = logging.getLogger("envclone.api.strategy")

LOGIN_FAILURE = -2147216959  # the Intelligence Server's "login failure"

# envclone code -> (Strategy code, HTTP status or None to keep envclone's). The project duplication
# document's table gives 400 INVALID_REQUEST, 403 FORBIDDEN, 404 PROJECT_NOT_FOUND,
# 409 PROJECT_NAME_EXISTS and 500 INTERNAL_SERVER_ERROR; Strategy's scripts know no 422, so every
# refusal of what the client sent is a 400. The rest are named in the same style.
CODES: dict[str, tuple[str, int | None]] = {
    "invalid_credentials": ("ERR003", 401),
    "not_authenticated": ("ERR009", 401),
    "invalid_request": ("INVALID_REQUEST", 400),
    "malformed_json": ("INVALID_REQUEST", 400),
    "payload_too_large": ("INVALID_REQUEST", 413),
    "forbidden": ("FORBIDDEN", 403),
    "user_fencing": ("USER_FENCING_ENABLED", 403),
    "project_not_found": ("PROJECT_NOT_FOUND", 404),
    "not_found": ("ERR004", 404),
    "project_name_exists": ("PROJECT_NAME_EXISTS", 409),
    "conflict": ("ERR001", 409),
    "not_cancellable": ("DUPLICATION_NOT_CANCELLABLE", 409),
    "package_corrupt": ("INVALID_PACKAGE", 400),
    "incompatible_versions": ("INCOMPATIBLE_VERSIONS", 400),
    "storage_not_configured": ("STORAGE_SERVICE_NOT_CONFIGURED", 400),
    "storage_invalid": ("STORAGE_SERVICE_INVALID", 400),
    "storage_unsupported": ("STORAGE_SERVICE_UNSUPPORTED", 400),
    "too_many_attempts": ("TOO_MANY_ATTEMPTS", 429),  # failed logins throttled (Retry-After says when)
    "internal_error": ("INTERNAL_SERVER_ERROR", 500),
}


class ProjectNotFound(NotFound, code="project_not_found"):
    """The project does not exist."""


def render_error(_request: Request, error: EnvcloneError) -> Response:
    fallback = ("INVALID_REQUEST", 400) if isinstance(error, InvalidRequest) else ("ERR001", None)
    code, status = CODES.get(error.code, fallback)
    ticket = uuid.uuid4().hex.upper()
    if error.status >= 500:
        log.warning("ticket %s: %s", ticket, error.message)
    body = {
        "code": code,
        "message": error.message,
        "ticketId": ticket,
        "iServerCode": LOGIN_FAILURE if code == "ERR003" else None,
    }
    return JSONResponse(body, status_code=status or error.status)
