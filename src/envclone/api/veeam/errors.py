"""Veeam error bodies: an ``Error`` with ``Message`` and ``StatusCode`` (attributes in XML, keys in
JSON), in the rendering the request asked for. Veeam answers every invalid request with 400 Bad
Request, where envclone's own API says 422; a missing, expired or refused session with 401 and a
Basic challenge for the realm RestSvc."""

from __future__ import annotations

from fastapi import Request, Response

from envclone.api.veeam.media import render
from envclone.api.veeam.schemas import Error
from envclone.errors import EnvcloneError

REALM = 'Basic realm="RestSvc"'
# envclone HTTP status -> Veeam's, where they differ.
STATUSES: dict[int, int] = {422: 400}


def render_error(request: Request, error: EnvcloneError) -> Response:
    status = STATUSES.get(error.status, error.status)
    response = render(request, Error(message=_message(error), status_code=status), "Error", status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return response


def _message(error: EnvcloneError) -> str:
    """The message, with the fields at fault when there are several (Veeam's Error has one text)."""
    details = error.details if isinstance(error.details, list) else []
    problems = [
        f"{d['field']}: {d['problem']}" for d in details if isinstance(d, dict) and {"field", "problem"} <= set(d)
    ]
    if not problems:
        return error.message
    if error.message in problems:  # the first problem, as api.body words it
        return "; ".join(problems)
    return f"{error.message}: {'; '.join(problems)}"
