"""What EPM routes declare in OpenAPI besides their bodies: the path parameters' shapes, the
success model and the error responses, in Oracle's envelope. Declarations only: routes still
return plain dicts, and services still check what a path holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel

from envclone.api.epm.schemas import ErrorEnvelope


def _declared(description: str, **schema: Any) -> Any:
    """A path parameter documented as ``schema`` and checked where it is used, which answers a
    value outside it as it always has: the document says what a valid one looks like."""
    return Path(description=description, json_schema_extra=schema)


# Oracle's paths name a REST version (11.1.2.3.600, v1, v2, v3); every one is served the same.
ApiVersion = Annotated[
    str, _declared("the REST API version, e.g. 11.1.2.3.600 or v3", pattern=r"^(v\d{1,3}|\d{1,4}(\.\d{1,6}){1,5})$")
]
JobId = Annotated[str, _declared("the job's number, from the link a start returned", pattern=r"^[0-9]{1,19}$")]
StoredName = Annotated[str, _declared("a snapshot or file name, with its folder for files", minLength=1, maxLength=255)]

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
