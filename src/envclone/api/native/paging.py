"""Paging and filter query parameters shared by every native list endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from envclone.domain.page import Page
from envclone.errors import InvalidRequest

MAX_LIMIT = 1000


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


def paging(request: Request) -> tuple[int, int, dict[str, Any]]:
    """(limit, offset, filters): every other query parameter is a filter, checked by the service."""
    limit = _int(request, "limit", 100, 1, MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, 1 << 40)
    filters = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
    return limit, offset, filters


def page_body(page: Page) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}
