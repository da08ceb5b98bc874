"""Rows as JSON lines: the one serialization export writes and replace reads. Content columns
only (internal ids are left out and regenerated), datetimes as ISO strings, so the lines are the
same whichever database wrote them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

_LINES_PER_BLOCK = 2000


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    raise TypeError(f"cannot serialize {type(value).__name__}")


_encoder = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"))


def encode_rows(
    rows: Iterable[Iterable[Any]], columns: list[str], on_row: Callable[[list[Any], str], None] | None = None
) -> Iterator[bytes]:
    """A header line naming the columns, then one JSON array per row, in blocks of bytes.
    ``on_row`` sees each row's values and line (the digest sums them in the same pass)."""
    yield json.dumps({"columns": columns}).encode() + b"\n"
    block: list[str] = []
    encode = _encoder.encode
    for row in rows:
        values = list(row)
        line = encode(values)
        if on_row is not None:
            on_row(values, line)
        block.append(line)
        if len(block) >= _LINES_PER_BLOCK:
            yield ("\n".join(block) + "\n").encode()
            block = []
    if block:
        yield ("\n".join(block) + "\n").encode()


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line)
    if pending:
        yield pending


def decode_rows(chunks: Iterable[bytes], table: sa.Table) -> Iterator[dict[str, Any]]:
    """Rows as dicts ready for insert, parsing datetimes back for DateTime columns."""
    lines = _lines(chunks)
    header = json.loads(next(lines))
    columns: list[str] = header["columns"]
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: unknown column(s) {sorted(unknown)}")
    times = {i for i, name in enumerate(columns) if isinstance(table.c[name].type, sa.DateTime)}
    for line in lines:
        values = json.loads(line)
        for i in times:
            if values[i] is not None:
                values[i] = dt.datetime.fromisoformat(values[i])
        yield dict(zip(columns, values, strict=True))
