"""Which of Veeam's two renderings a request speaks and wants: the body as ``Content-Type`` says
(XML or JSON, nothing else), the response as ``Accept`` asks (XML unless JSON is preferred)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from fastapi import Request, Response

from envclone.api.body import read_bytes
from envclone.api.veeam import xmlcodec
from envclone.api.veeam.schemas import Wire
from envclone.errors import InvalidRequest, MalformedJson

BODY_LIMIT = 64 * 1024


class Media(StrEnum):
    XML = "application/xml"
    JSON = "application/json"


class UnsupportedMediaType(InvalidRequest, code="unsupported_media_type", status=415):
    """The request body must be application/xml or application/json."""


_KNOWN = {"application/xml": Media.XML, "text/xml": Media.XML, "application/json": Media.JSON}


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wanted(request: Request) -> Media:
    """JSON only when Accept prefers it (a higher q, or named before XML); XML otherwise."""
    best: tuple[float, Media] | None = None
    for part in request.headers.get("accept", "").split(","):
        media, *params = part.split(";")
        found = _KNOWN.get(media.strip().lower())
        if found is not None and (best is None or _quality(params) > best[0]):
            best = (_quality(params), found)
    return best[1] if best is not None and best[0] > 0 else Media.XML


def render(request: Request, model: Wire, root: str, *, status: int = 200) -> Response:
    if wanted(request) is Media.JSON:
        body = json.dumps(model.model_dump(mode="json", by_alias=True, exclude_none=True)).encode()
        return Response(body, status_code=status, media_type=Media.JSON.value)
    return Response(xmlcodec.dumps(model, root), status_code=status, media_type=Media.XML.value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            raise InvalidRequest(f"{key} may occur at most once")
        fields[key] = value
    return fields


async def read_body(request: Request, root: str) -> Any:
    """The body as data for a request model: XML (its ``root`` element) or JSON, as Content-Type
    says; an element or key given twice is refused in both."""
    media = _KNOWN.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if media is None:
        raise UnsupportedMediaType()
    data = await read_bytes(request, BODY_LIMIT)
    if media is Media.XML:
        return xmlcodec.loads(data, root)
    if not data.strip():
        raise MalformedJson("the request body is empty; a JSON document is required")
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"the request body is not valid JSON: {exc}") from None
