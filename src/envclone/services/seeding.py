"""Filling an environment with seed content in-process, through the same services (and so the same
rules and change counters) as the native API's batch endpoints: ``envclone seed --data-dir`` and
``serve --demo``. Adds only what is missing; the sequence itself is ``demodata.target.fill``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from envclone.demodata.files import SeedFile
from envclone.demodata.sections import Item, Section
from envclone.demodata.seeddata import SeedData
from envclone.demodata.sizes import Size
from envclone.demodata.target import Report, fill
from envclone.domain.files import FileArea
from envclone.domain.principal import Principal
from envclone.domain.roles import Role
from envclone.services import content_resources, environment, files, records
from envclone.services.context import ServiceContext
from envclone.services.resource import Resource, create_items, list_items

# Items per transaction: large enough for bulk inserts to pay off, small enough that a 1,000,000-row
# section neither sits in memory nor grows one huge SQLite write-ahead log.
CHUNK = 20_000
PAGE = 10_000
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
AREAS = (FileArea.INBOX.value, FileArea.OUTBOX.value)


class DirectTarget:
    """A ``SeedTarget`` over the services of one environment, as the system principal."""

    batch_size = CHUNK

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _scope(self, section: Section, scope: dict[str, str]) -> str | None:
        res = RESOURCES[section]
        return scope[res.scope] if res.scope else None

    def existing(self, section: Section, scope: dict[str, str]) -> Iterable[Item]:
        res, offset = RESOURCES[section], 0
        while True:
            page = list_items(self._ctx, SYSTEM, res, scope=self._scope(section, scope), limit=PAGE, offset=offset)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def create(self, section: Section, scope: dict[str, str], items: list[Item]) -> int:
        return create_items(self._ctx, SYSTEM, RESOURCES[section], items, scope=self._scope(section, scope))

    def record_count(self, section: Section) -> int:
        return records.query(self._ctx, SYSTEM, section.value, {}, limit=1, offset=0).total

    def append(self, section: Section, items: list[Item]) -> int:
        return records.append(self._ctx, SYSTEM, section.value, items)

    def file_sizes(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for area in AREAS:
            offset = 0
            while True:
                page = files.list_files(self._ctx, SYSTEM, area, prefix=None, limit=PAGE, offset=offset)
                out.update({(area, f["name"]): int(f["size"]) for f in page.items})
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        return out

    def upload(self, seed_file: SeedFile, chunks: Iterator[bytes]) -> int:
        upload = files.start_upload(self._ctx, SYSTEM, seed_file.area, seed_file.name, modified=seed_file.modified)
        try:
            for block in chunks:
                upload.write(block)
            return int(upload.finish()["size"])
        finally:
            upload.abort()

    def settings(self) -> Item:
        return environment.get_settings(self._ctx, SYSTEM)

    def update_settings(self, changes: Item) -> None:
        environment.update_settings(self._ctx, SYSTEM, changes)


def seed_direct(
    ctx: ServiceContext, size: Size | str, *, seed: int = 1, progress: Report | None = None
) -> dict[str, int]:
    """Add whatever seed content of ``size`` the environment lacks; returns how many items of each
    section were added (``files`` counts files, ``file bytes`` their bytes)."""
    data = SeedData(size, seed)
    return fill(data, DirectTarget(ctx), progress) if progress else fill(data, DirectTarget(ctx))


def seed_demo(ctx: ServiceContext) -> dict[str, int] | None:
    """Seed the small size on first start only: when the environment has no projects yet."""
    if list_items(ctx, SYSTEM, content_resources.PROJECTS, limit=1).total:
        return None
    return seed_direct(ctx, Size.SMALL)
