"""One page of a listing: the rows, how many there are in all, and the window asked for. Every
repository returns it and every dialect renders it in its own paging shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Row]
    total: int
    limit: int
    offset: int
