"""One rule for every route's path and query: no NUL character. Percent-decoding lets %00 into a
path parameter or a filter, and PostgreSQL cannot compare text holding it (a 500 otherwise)."""

from __future__ import annotations

from fastapi import Request

from envclone.errors import InvalidRequest


async def refuse_nul(request: Request) -> None:
    """An app-wide dependency: it runs before a route's own, so errors take the dialect's shape."""
    query = request.query_params.multi_items()
    if "\x00" in request.url.path or any("\x00" in key or "\x00" in value for key, value in query):
        raise InvalidRequest("the URL holds the character U+0000 (%00), which no name or value may hold")
