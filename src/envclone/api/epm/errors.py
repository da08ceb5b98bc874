"""EPM error bodies: Oracle's envelope with ``status`` a positive Migration Status Code and the
English error text in ``details``. The code numbers are envclone's (Oracle documents none); they
are stable and listed in docs/compatibility.md."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from envclone.errors import EnvcloneError

STATUS_CODES: dict[str, int] = {
    "internal_error": 1,
    "invalid_request": 2,
    "malformed_json": 3,
    "payload_too_large": 4,
    "invalid_file_name": 5,
    "not_authenticated": 6,
    "invalid_credentials": 6,
    "forbidden": 7,
    "not_found": 8,
    "conflict": 9,
    "interrupted": 10,
    "cancelled": 11,
    "unreachable": 12,
    "version_mismatch": 13,
    "service_type_mismatch": 14,
    "archive_damaged": 15,
    "archive_invalid": 15,
    "manifest_corrupt": 15,
    "chunk_error": 15,
    "chunk_missing": 15,
    "chunk_corrupt": 15,
    "package_corrupt": 15,
    "archive_not_found": 8,
    "too_many_attempts": 16,
}


def migration_status(code: str | None) -> int:
    return STATUS_CODES.get(code or "internal_error", 1)


def render_error(request: Request, error: EnvcloneError) -> Response:
    body = {
        "details": error.message,
        "status": migration_status(error.code),
        "items": None,
        "links": [{"href": str(request.url), "rel": "self", "data": None, "action": request.method}],
    }
    headers = {"WWW-Authenticate": 'Basic realm="EPM", Bearer'} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers)
