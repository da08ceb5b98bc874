"""Reading JSON request bodies with a size limit and validating them against a pydantic model,
so every surface reports malformed or oversized input the same way."""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from envclone.errors import InvalidRequest, MalformedJson, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)

# Deeper documents are refused before anything walks them recursively (the JSON decoder itself,
# validation, canonical digests, storage): no content envclone knows nests beyond a few levels.
MAX_JSON_DEPTH = 64
_TOO_DEEP = f"nests arrays or objects deeper than {MAX_JSON_DEPTH} levels"
# NUL (PostgreSQL text cannot hold it) and lone surrogates (escapes such as "\ud800" that encode
# no character: nothing can store, hash or send them back as UTF-8) in any string or key.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
    return parse_json(data, "the request body")


def parse_json(data: bytes | str, what: str) -> Any:
    """A JSON document from a client, refused as MalformedJson if invalid, nested deeper than
    MAX_JSON_DEPTH or holding what cannot be stored. Every JSON a client sends is parsed here."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError, as the hooks' are
        raise MalformedJson(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:  # the decoder recurses per level: far too deep
        raise _too_deep(what) from None
    problem = _problem(value)
    if problem:
        raise MalformedJson(f"{what} {problem}")
    return value


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); PostgreSQL's JSON refuses them, digests too.
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large for a JSON number")
    return value


def _too_deep(what: str) -> MalformedJson:
    return MalformedJson(f"{what} {_TOO_DEEP}")


def _problem(value: Any) -> str | None:
    """What makes a parsed document unacceptable, or None. Iterative, so that walking a deep
    document cannot itself overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            found = _UNSTORABLE.search(node)
            if found:
                return f"holds the character U+{ord(found.group()):04X}, which cannot be stored"
            continue
        if isinstance(node, dict):
            children: list[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return _TOO_DEEP
        stack.extend((child, depth + 1) for child in children)
    return None


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


def body_schema(model: type[BaseModel], *, required: bool = True, form: bool = False) -> dict[str, Any]:
    """The request body for OpenAPI. Bodies are read by read_model, not by FastAPI, so that size
    limits and error shapes stay the API's own; nested definitions are inlined because OpenAPI
    cannot resolve a schema's own ``$defs``. Pass it as a route's ``openapi_extra``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    if form:  # also taken as an HTML form (OAuth 2.0 token requests)
        content["application/x-www-form-urlencoded"] = {"schema": inline(schema)}
    return {"requestBody": {"required": required, "content": content}}
