"""All seed content of one size and seed, in creation order: what ``envclone seed`` and
``serve --demo`` send. Pure and streamed: objects, records and file bytes are made as they are
consumed, so the large size never sits in memory."""

from __future__ import annotations

from collections.abc import Iterator

from envclone.demodata.configuration import Configuration
from envclone.demodata.files import SeedFile, seed_files
from envclone.demodata.people import People
from envclone.demodata.projects import Projects
from envclone.demodata.records import Records
from envclone.demodata.sections import RECORD_SECTIONS, Item, Section, SectionItems
from envclone.demodata.sizes import COUNTS, Size
from envclone.demodata.streams import Streams
from envclone.demodata.vocabulary import APP_ROLES, THEMES


class SeedData:
    """Each part draws from its own random streams, so a part's content does not depend on which
    other parts were generated, or in what order; and a smaller size's content is part of a larger's."""

    def __init__(self, size: Size | str, seed: int = 1) -> None:
        self.size = Size(size)
        self.seed = seed
        self.counts = COUNTS[self.size]
        streams = Streams(seed)
        self._streams = streams
        self.people = People(streams, self.counts)
        self.projects = Projects(streams, self.counts, self.people)
        self.configuration = Configuration(streams, self.counts, self.people)
        self.records = Records(streams, self.size, self.people, self.projects)

    def files(self) -> Iterator[SeedFile]:
        return seed_files(self._streams, self.size)

    def settings(self) -> Item:
        rng = self._streams.rng("settings")
        return {"theme": rng.choice(THEMES), "business_process_name": rng.choice(("Planning", "FCCS", "EPBCS", "Tax"))}

    def parts(self) -> Iterator[SectionItems]:
        """Every dict-shaped section in dependency order (files and settings come separately)."""
        people, projects, configuration = self.people, self.projects, self.configuration
        yield SectionItems(Section.USERS, people.users())
        yield SectionItems(Section.GROUPS, people.groups())
        for group, members in people.group_members():
            yield SectionItems(Section.GROUP_MEMBERS, iter(members), {"group_name": group})
        yield SectionItems(Section.ROLES, people.roles())
        yield SectionItems(Section.ROLE_ASSIGNMENTS, people.role_assignments())
        yield SectionItems(Section.PROJECTS, projects.projects())
        for index, project in enumerate(projects.all_projects):
            scope = {"project_id": project["id"]}
            yield SectionItems(Section.OBJECTS, projects.objects(index), scope)
            yield SectionItems(Section.PROFILE_FOLDERS, projects.profile_folders(index), scope)
            yield SectionItems(Section.SUBSCRIPTIONS, projects.subscriptions(index), scope)
        yield SectionItems(Section.CONFIG_OBJECTS, configuration.config_objects())
        yield SectionItems(Section.REPOSITORIES, configuration.repositories())
        yield SectionItems(Section.JOBS, configuration.jobs())
        for section in RECORD_SECTIONS:
            yield SectionItems(section, self.records.of(section))

    def totals(self) -> dict[Section, int]:
        """How many items each section will have (bytes for files), for progress displays."""
        c = self.counts
        return {
            Section.USERS: c.users,
            Section.GROUPS: len(self.people.tree),
            Section.GROUP_MEMBERS: sum(len(m) for _, m in self.people.group_members()),
            Section.ROLES: len(APP_ROLES),
            Section.ROLE_ASSIGNMENTS: sum(1 for _ in self.people.role_assignments()),
            Section.PROJECTS: c.projects,
            Section.OBJECTS: c.objects,
            Section.PROFILE_FOLDERS: c.projects * min(c.users, c.profile_folders),
            Section.SUBSCRIPTIONS: c.subscriptions,
            Section.CONFIG_OBJECTS: c.config_objects,
            Section.REPOSITORIES: c.repositories,
            Section.JOBS: c.jobs,
            Section.AUDIT: c.audit,
            Section.JOB_CONSOLE: c.job_console,
            Section.DATA_MANAGEMENT: c.data_management,
            Section.FILES: c.file_bytes,
            Section.SETTINGS: len(self.settings()),
        }
