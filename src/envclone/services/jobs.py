"""Reading job definitions and backup repositories, with a repository's capacity and free space
measured on the file system that holds its folder (a bucket has none to measure). Starting or
cloning jobs is elsewhere."""

from __future__ import annotations

import shutil

from envclone.domain.job_run import is_bucket, repository_folder
from envclone.domain.page import Row
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest, NotFound
from envclone.services.context import ServiceContext
from envclone.store import jobs


def list_jobs(ctx: ServiceContext, who: Principal) -> list[Row]:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        return jobs.list_jobs(conn)


def get_job(ctx: ServiceContext, who: Principal, uid: str) -> Row:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        row = jobs.find_job(conn, uid)
    if row is None:
        raise NotFound(f"job {uid} not found")
    return row


def list_repositories(ctx: ServiceContext, who: Principal) -> list[Row]:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        return jobs.list_repositories(conn)


def get_repository(ctx: ServiceContext, who: Principal, uid: str) -> Row:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        row = jobs.find_repository(conn, uid)
    if row is None:
        raise NotFound(f"repository {uid} not found")
    return row


def repository_space(ctx: ServiceContext, row: Row) -> tuple[int, int]:
    """(capacity, free bytes) of the file system the folder is on, or will be once created: the
    nearest folder on its path that exists is measured. A bucket has no capacity an S3 API tells,
    and reading this must not call out to it: (0, 0)."""
    if is_bucket(row["path"]):
        return 0, 0
    try:
        folder = repository_folder(ctx.settings.data_dir, row["path"], row["name"])
    except InvalidRequest:  # no path and a name that is no folder name: it cannot run, measure the data
        folder = ctx.settings.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return usage.total, usage.free
