"""What EPM routes declare in OpenAPI besides their bodies: the success model and the error
responses, in Oracle's envelope. Declarations only: routes still return plain dicts."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from envclone.api.epm.schemas import ErrorEnvelope

_TEXTS = {
    400: "status 3 malformed JSON, 5 an invalid file name",
    401: "status 6: no credentials, or wrong ones",
    403: "status 7: the user's roles lack the permission",
    404: "status 8: no such backup, snapshot, file or job",
    409: "status 9: another operation holds the environment",
    413: "status 4: the body is too large",
    422: "status 2: a field or parameter is not valid",
}
# Any other client error comes in the same envelope; declaring the range also keeps FastAPI from
# documenting its own validation error, which envclone never sends.
ANY_CLIENT_ERROR: dict[int | str, Any] = {
    "4XX": {"model": ErrorEnvelope, "description": "another client error, in the same envelope"}
}


def errors(*statuses: int) -> dict[int | str, Any]:
    return {s: {"model": ErrorEnvelope, "description": _TEXTS[s]} for s in statuses}


def ok(model: type[BaseModel], *errs: int) -> dict[str, Any]:
    """Decorator keyword arguments: ``model`` documents the 200 answer (response_model stays None,
    so FastAPI neither filters nor reshapes what a route returns)."""
    return {"response_model": None, "responses": {200: {"model": model}, **errors(*errs)}}


def binary(*errs: int) -> dict[str, Any]:
    content = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {
        "response_model": None,
        "response_class": Response,  # no JSON media type added beside the declared one
        "responses": {200: {"description": "the content", "content": content}, **errors(*errs)},
    }
