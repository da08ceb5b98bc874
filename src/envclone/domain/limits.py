"""Bounds of the integers the store keeps, so that every surface refuses an out-of-range number as
a client mistake before a database overflows on it. Pure constants."""

from __future__ import annotations

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1  # an ``Integer`` column (PostgreSQL ``integer``)
INT64_MAX = 2**63 - 1  # a ``BigInteger`` column, and SQLite's INTEGER
INT64_MIN = -(2**63)
