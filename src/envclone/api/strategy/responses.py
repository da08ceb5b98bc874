"""What Strategy routes declare in OpenAPI besides their bodies: the error responses, in Strategy's
error shape with the codes each status carries, and the session dependency every route shares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path

from envclone.api.strategy import auth, schemas

who_dep = Depends(auth.authenticated)
# Documented bounds only: what lies outside is looked up as before and not found.
ProjectRef = Annotated[
    str, Path(description="the project's id (32 hex digits), or its name", json_schema_extra={"maxLength": 250})
]
ObjectId = Annotated[str, Path(description="the object's id (32 hex digits)", json_schema_extra={"maxLength": 250})]

_TEXTS = {
    400: "INVALID_REQUEST: the body or a parameter is not valid",
    401: "ERR003: login failed; ERR009: no session or it has expired",
    403: "FORBIDDEN: the user lacks the privilege",
    404: "PROJECT_NOT_FOUND: no project with this id",
    409: "PROJECT_NAME_EXISTS: the target project name is taken",
    413: "INVALID_REQUEST: the body is larger than the server takes",
}


# Any other client error comes in the same shape; declaring the range also keeps FastAPI from
# documenting its own validation error, which envclone never sends (invalid input is a 400 here).
ANY_CLIENT_ERROR: dict[int | str, Any] = {
    "4XX": {"model": schemas.ErrorBody, "description": "another client error, in the same shape"}
}


def errors(*statuses: int, texts: dict[int, str] | None = None) -> dict[int | str, Any]:
    """Error responses for ``statuses``; ``texts`` replaces the default description of a status."""
    chosen = {**_TEXTS, **(texts or {})}
    return {s: {"model": schemas.ErrorBody, "description": chosen[s]} for s in statuses}
