"""How a row without a natural key (an audit, job console or data management record) is named
when two sets of rows are compared: by what it holds. Its key is a short label of its scalar
columns plus its content hash; identical rows get the same key followed by their occurrence (#2,
#3, ...), so a set of rows has the same keys in any order, and two sets share exactly as many keys
as they share rows (the multiset intersection). Pure: no database, no I/O."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _plain(value: Any) -> Any:
    """A label value as JSON: timestamps to the second (the hash tells finer differences apart)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class ContentKeys:
    """The keys of one keyless table's rows within one index: remembers how often each content was
    seen, so the n-th identical row gets ``#n``."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._seen: Counter[str] = Counter()

    def key(self, label: Sequence[Any], content_hash: str) -> str:
        """``table:["<label>", ...]@<content hash>``, then ``#2``, ``#3`` for repeats."""
        shown = json.dumps([_plain(v) for v in label], ensure_ascii=False, separators=(",", ":"))
        base = f"{self.table}:{shown}@{content_hash}"
        self._seen[base] += 1
        seen = self._seen[base]
        return base if seen == 1 else f"{base}#{seen}"
