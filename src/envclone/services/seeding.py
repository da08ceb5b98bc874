"""Filling an environment with seed content in-process, through the same services (and so the same
rules and change counters) as the native API's batch endpoints: ``envclone seed --data-dir`` and
``serve --demo``. Generators are consumed in bounded chunks, so memory stays flat at any size."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from envclone.auth.principal import Principal
from envclone.content.seeddata import RECORD_SECTIONS, Section, SeedData, Size, chunked
from envclone.domain.roles import Role
from envclone.services import content_resources, environment, files, records
from envclone.services.context import ServiceContext
from envclone.services.resource import Resource, create_items, list_items

Progress = Callable[[Section, int], None]
T = TypeVar("T")

# Items per transaction: large enough for bulk inserts to pay off, small enough that a 1,000,000-row
# section neither sits in memory nor grows one huge SQLite write-ahead log.
CHUNK = 20_000
SYSTEM = Principal.of("system", {Role.SERVICE_ADMINISTRATOR.value, Role.IDENTITY_DOMAIN_ADMINISTRATOR.value})
RESOURCES: dict[Section, Resource] = {
    Section.USERS: content_resources.USERS,
    Section.GROUPS: content_resources.GROUPS,
    Section.GROUP_MEMBERS: content_resources.GROUP_MEMBERS,
    Section.ROLES: content_resources.ROLES,
    Section.ROLE_ASSIGNMENTS: content_resources.ROLE_ASSIGNMENTS,
    Section.PROJECTS: content_resources.PROJECTS,
    Section.OBJECTS: content_resources.OBJECTS,
    Section.PROFILE_FOLDERS: content_resources.PROFILE_FOLDERS,
    Section.SUBSCRIPTIONS: content_resources.SUBSCRIPTIONS,
    Section.CONFIG_OBJECTS: content_resources.CONFIG_OBJECTS,
    Section.REPOSITORIES: content_resources.REPOSITORIES,
    Section.JOBS: content_resources.JOBS,
}


def _quiet(_section: Section, _advance: int) -> None:
    pass


def seed_direct(
    ctx: ServiceContext, size: Size | str, *, seed: int = 1, progress: Progress | None = None
) -> dict[str, int]:
    """Create all seed content of ``size``; returns how many items of each section were created
    (``files`` counts files, ``file bytes`` their bytes). Fails with Conflict if it is already there."""
    data, report = SeedData(size, seed), progress or _quiet
    created: dict[str, int] = {}
    for step in data.steps():
        count = 0
        for chunk in chunked(step.items, CHUNK):
            if step.section in RECORD_SECTIONS:
                done = records.append(ctx, SYSTEM, step.section.value, chunk)
            else:
                res = RESOURCES[step.section]
                scope = step.scope[res.scope] if res.scope else None
                done = create_items(ctx, SYSTEM, res, chunk, scope=scope)
            count += done
            report(step.section, done)
        created[step.section.value] = created.get(step.section.value, 0) + count
    created[Section.FILES.value], created["file bytes"] = _upload_files(ctx, data, report)
    environment.update_settings(ctx, SYSTEM, data.settings())
    report(Section.SETTINGS, len(data.settings()))
    created[Section.SETTINGS.value] = len(data.settings())
    return created


def _upload_files(ctx: ServiceContext, data: SeedData, report: Progress) -> tuple[int, int]:
    count = size = 0
    for seed_file in data.files():
        upload = files.start_upload(ctx, SYSTEM, seed_file.area, seed_file.name, modified=seed_file.modified)
        try:
            for block in seed_file.chunks():
                upload.write(block)
                report(Section.FILES, len(block))
            size += upload.finish()["size"]
            count += 1
        finally:
            upload.abort()
    return count, size


def seed_demo(ctx: ServiceContext) -> dict[str, int] | None:
    """Seed the small size on first start only: when the environment has no projects yet."""
    if list_items(ctx, SYSTEM, content_resources.PROJECTS, limit=1).total:
        return None
    return seed_direct(ctx, Size.SMALL)
