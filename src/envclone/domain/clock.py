"""The one clock every record is stamped with: UTC, stored without a zone (SQLite keeps no zone,
and PostgreSQL columns are ``timestamp without time zone``), so values compare the same on both."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
