"""Reading JSON request bodies with a size limit and validating them against a pydantic model,
so every surface reports malformed or oversized input the same way."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from envclone.errors import InvalidRequest, MalformedJson, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


async def read_bytes(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    return bytes(data)


async def read_json(request: Request, limit: int) -> Any:
    data = await read_bytes(request, limit)
    if not data:
        raise MalformedJson("the request body is empty; a JSON document is required")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"the request body is not valid JSON: {exc}") from None


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        first = details[0]
        raise InvalidRequest(f"{first['field']}: {first['problem']}", details=details) from None


async def read_model(request: Request, model: type[M], limit: int) -> M:
    return validate(model, await read_json(request, limit))
