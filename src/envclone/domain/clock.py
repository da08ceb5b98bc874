"""The one clock every record is stamped with: UTC, stored without a zone (SQLite keeps no zone,
and PostgreSQL columns are ``timestamp without time zone``), so values compare the same on both."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def naive_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as this clock stores it; ValueError when it falls outside years 1-9999 in UTC
    (0001-01-01T00:00+14:00 is in year 0 there)."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from None
