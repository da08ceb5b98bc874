"""What native routes declare in OpenAPI besides their bodies: the path parameters' shapes, the
success model and the error responses, in the native error shape. Declarations only: routes still
return plain dicts, and services still check what a path holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel

from envclone.api.native.schemas import ErrorResponse
from envclone.domain.components import RECORD_COMPONENTS, Component
from envclone.domain.files import FileArea


def _declared(description: str, **schema: Any) -> Any:
    """A path parameter documented as ``schema`` and checked by the service, which answers a value
    outside it as it always has (not found, or invalid_request): the document says what a valid
    one looks like without changing what an invalid one gets."""
    return Path(description=description, json_schema_extra=schema)


OpId = Annotated[
    str, _declared("the operation's id (32 hex digits) or number", pattern=r"^([0-9A-Fa-f]{32}|[0-9]{1,19})$")
]
RecordKind = Annotated[str, _declared("a record component", enum=sorted(c.value for c in RECORD_COMPONENTS))]
Area = Annotated[str, _declared("a file area", enum=[a.value for a in FileArea])]
FileName = Annotated[str, _declared("the file's name, slashes included", minLength=1, maxLength=255)]
ImageKind = Annotated[str, _declared("which settings image", enum=["logo", "background"])]
BackupName = Annotated[str, _declared("e.g. 2026-04-23T08:48:06/Environment_Backup", minLength=1, maxLength=250)]
ChunkId = Annotated[str, _declared("the chunk's BLAKE3 hash", pattern=r"^[0-9a-f]{64}$")]
JobUid = Annotated[str, _declared("the job's URN, urn:veeam:Job:<uuid>", minLength=1, maxLength=250)]
ComponentName = Annotated[str, _declared("a component", enum=[c.value for c in Component])]

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
