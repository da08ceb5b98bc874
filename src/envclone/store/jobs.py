"""The jobs repository: job definitions and the backup repositories they write to, read by UID or
name and listed in a stable order. Writes go through TableRepository, so the jobs component's
change counter moves with them."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.domain.page import Row
from envclone.store import tables
from envclone.store.repository import TableRepository

job_rows = TableRepository(tables.jobs, label="job")
repository_rows = TableRepository(tables.repositories, label="repository")


def find_job(conn: sa.Connection, uid: str) -> Row | None:
    return job_rows.find(conn, {"uid": uid})


def job_named(conn: sa.Connection, name: str) -> Row | None:
    row = conn.execute(sa.select(tables.jobs).where(tables.jobs.c.name == name)).first()
    return dict(row._mapping) if row else None


def list_jobs(conn: sa.Connection) -> list[Row]:
    query = sa.select(tables.jobs).order_by(tables.jobs.c.name, tables.jobs.c.uid)
    return [dict(r._mapping) for r in conn.execute(query)]


def insert_job(conn: sa.Connection, row: Row) -> Row:
    """Conflict if the UID or the name is taken, or the repository is gone."""
    return job_rows.insert(conn, row)


def find_repository(conn: sa.Connection, uid: str) -> Row | None:
    return repository_rows.find(conn, {"uid": uid})


def list_repositories(conn: sa.Connection) -> list[Row]:
    query = sa.select(tables.repositories).order_by(tables.repositories.c.name, tables.repositories.c.uid)
    return [dict(r._mapping) for r in conn.execute(query)]
