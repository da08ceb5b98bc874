"""Strategy error bodies: ``code``, ``message``, ``ticketId`` and ``iServerCode``, with the codes
of Strategy's documents (ERR003, ERR009 and the project duplication table). Which envclone error
becomes which code and status is the table below; nothing else here decides."""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from envclone.errors import EnvcloneError, NotFound

log = logging.getLogger("envclone.api.strategy")

LOGIN_FAILURE = -2147216959  # the Intelligence Server's "login failure"

# envclone code -> (Strategy code, HTTP status or None to keep envclone's)
CODES: dict[str, tuple[str, int | None]] = {
    "invalid_credentials": ("ERR003", 401),
    "not_authenticated": ("ERR009", 401),
    "invalid_request": ("INVALID_REQUEST", 400),
    "malformed_json": ("INVALID_REQUEST", 400),
    "payload_too_large": ("INVALID_REQUEST", 413),
    "forbidden": ("FORBIDDEN", 403),
    "project_not_found": ("PROJECT_NOT_FOUND", 404),
    "not_found": ("ERR004", 404),
    "conflict": ("ERR001", 409),
    "internal_error": ("INTERNAL_SERVER_ERROR", 500),
}


class ProjectNotFound(NotFound, code="project_not_found"):
    """The project does not exist."""


def render_error(_request: Request, error: EnvcloneError) -> Response:
    code, status = CODES.get(error.code, ("ERR001", None))
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
