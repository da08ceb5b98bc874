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


def line_encoder(default: Callable[[Any], Any], *, sort_keys: bool = False) -> Callable[[Any], str]:
    """``json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"),
    sort_keys=sort_keys)``, the same text, without building an encoder per call (which json.dumps
    does for any non-default argument: most of the cost of encoding a short row)."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # no C accelerator: the standard path
        encoder = json.JSONEncoder(default=default, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
        return encoder.encode
    # The C encoder json.JSONEncoder.encode makes for each call, made once. No circular check
    # (markers None): rows are flat or JSON values read from a database, never circular.
    encode = c_make_encoder(None, default, json.encoder.encode_basestring, None, ":", ",", sort_keys, False, True)

    def encode_line(value: Any) -> str:
        if isinstance(value, str):
            return json.encoder.encode_basestring(value)
        return "".join(encode(value, 0))

    return encode_line


_encode_line = line_encoder(_default)


def encode_rows(
    rows: Iterable[Iterable[Any]], columns: list[str], on_row: Callable[[list[Any], str], None] | None = None
) -> Iterator[bytes]:
    """A header line naming the columns, then one JSON array per row, in blocks of bytes.
    ``on_row`` sees each row's values and line (the digest sums them in the same pass)."""
    yield json.dumps({"columns": columns}).encode() + b"\n"
    block: list[str] = []
    encode = _encode_line
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
