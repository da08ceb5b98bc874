"""What native routes declare in OpenAPI besides their bodies: the success model and the error
responses, all in the native error shape. Declarations only: routes still return plain dicts."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from envclone.api.native.schemas import ErrorResponse

_TEXTS = {
    400: "malformed_json, invalid_file_name, or invalid_request for a query parameter",
    401: "not_authenticated or invalid_credentials",
    403: "forbidden: the user's roles lack the permission",
    404: "not_found",
    409: "conflict: the key or name is taken, or the environment is busy",
    413: "payload_too_large",
    422: "invalid_request: a field of the body is not valid",
}
# Any other client error (405, 415...) comes in the same shape; declaring the range also keeps
# FastAPI from documenting its own validation error, which envclone never sends.
ANY_CLIENT_ERROR: dict[int | str, Any] = {
    "4XX": {"model": ErrorResponse, "description": "another client error, in the same shape"}
}


def errors(*statuses: int, texts: dict[int, str] | None = None) -> dict[int | str, Any]:
    chosen = {**_TEXTS, **(texts or {})}
    return {s: {"model": ErrorResponse, "description": chosen[s]} for s in statuses}


def ok(
    model: type[BaseModel] | Any, status: int = 200, *errs: int, texts: dict[int, str] | None = None
) -> dict[str, Any]:
    """``add_api_route``/decorator keyword arguments: ``model`` documents the ``status`` answer
    (response_model stays None, so FastAPI neither filters nor reshapes what a route returns)."""
    return {"response_model": None, "responses": {status: {"model": model}, **errors(*errs, texts=texts)}}


def binary(media_type: str, status: int = 200, *errs: int) -> dict[str, Any]:
    """A streamed or bytes answer of ``media_type``."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {
        "response_model": None,
        "response_class": Response,  # no JSON media type added beside the declared one
        "responses": {status: {"description": "the content", "content": content}, **errors(*errs)},
    }
