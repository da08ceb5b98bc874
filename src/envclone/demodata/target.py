"""The one sequence that puts seed content somewhere, over a ``SeedTarget``: a server through its
native API (the CLI) or the services in-process (``--data-dir``, ``serve --demo``). It adds only
what is missing, so seeding again, or a larger size over a smaller one, is safe. No I/O of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, Protocol

from envclone.demodata.files import SeedFile
from envclone.demodata.sections import RECORD_SECTIONS, Item, Section, chunked, key_of
from envclone.demodata.seeddata import SeedData
from envclone.errors import Conflict

Report = Callable[[Section, int], None]


class SeedTarget(Protocol):
    """Where seed content goes. ``create`` and ``append`` are all or nothing for one batch; reads
    see every earlier write."""

    batch_size: int

    def existing(self, section: Section, scope: dict[str, str]) -> Iterable[Item]:
        """Every item of ``section`` in ``scope`` (at least its key fields)."""
        ...

    def create(self, section: Section, scope: dict[str, str], items: list[Item]) -> int: ...

    def record_count(self, section: Section) -> int: ...

    def append(self, section: Section, items: list[Item]) -> int: ...

    def file_sizes(self) -> dict[tuple[str, str], int]:
        """(area, name) -> size of every inbox and outbox file."""
        ...

    def upload(self, seed_file: SeedFile, chunks: Iterator[bytes]) -> int: ...

    def settings(self) -> Item: ...

    def update_settings(self, changes: Item) -> None: ...


def _quiet(_section: Section, _advance: int) -> None:
    pass


def _check_projects(data: SeedData, target: SeedTarget) -> None:
    """Refuse before writing anything when the environment holds a project of the seed's name with
    another id: it was seeded with another --seed, or made by hand, and the two would mix."""
    ids = {p["name"]: p["id"] for p in target.existing(Section.PROJECTS, {})}
    for project in data.projects.all_projects:
        if ids.get(project["name"], project["id"]) != project["id"]:
            raise Conflict(
                f"this environment already has a project {project['name']!r} that seed {data.seed} did not make "
                "(it was seeded with another --seed, or the project was made by hand): seed it with the --seed "
                "it was seeded with, or seed an empty environment"
            )


def fill(data: SeedData, target: SeedTarget, report: Report = _quiet) -> dict[str, int]:
    """Add whatever of ``data`` the target lacks; returns how many items of each section were added
    (``files`` counts files, ``file bytes`` their bytes). Items are told apart by key; records,
    which have none, by count: a seeded environment's records are a prefix of the seed's stream."""
    _check_projects(data, target)
    added: dict[str, int] = {}
    for part in data.parts():
        if part.section in RECORD_SECTIONS:
            have = target.record_count(part.section)
            report(part.section, have)
            todo: Iterator[Item] = islice(part.items, have, None)
        else:
            keys = {key_of(part.section, item) for item in target.existing(part.section, part.scope)}
            todo = _missing(part.section, part.items, keys, report)
        count = 0
        for batch in chunked(todo, target.batch_size):
            if part.section in RECORD_SECTIONS:
                done = target.append(part.section, batch)
            else:
                done = target.create(part.section, part.scope, batch)
            count += done
            report(part.section, done)
        added[part.section.value] = added.get(part.section.value, 0) + count
    added[Section.FILES.value], added["file bytes"] = _upload_files(data, target, report)
    wanted = data.settings()
    current = target.settings()
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changes:
        target.update_settings(changes)
    report(Section.SETTINGS, len(wanted))
    added[Section.SETTINGS.value] = len(changes)
    return added


def _missing(section: Section, items: Iterator[Item], keys: set[tuple[Any, ...]], report: Report) -> Iterator[Item]:
    for item in items:
        if key_of(section, item) in keys:
            report(section, 1)  # already there: counts as done for the progress display
        else:
            yield item


def _upload_files(data: SeedData, target: SeedTarget, report: Report) -> tuple[int, int]:
    have = target.file_sizes()
    count = size = 0
    for seed_file in data.files():
        if have.get((seed_file.area, seed_file.name)) == seed_file.size:
            report(Section.FILES, seed_file.size)
            continue
        size += target.upload(seed_file, _reported(seed_file.chunks(), report))
        count += 1
    return count, size


def _reported(chunks: Iterator[bytes], report: Report) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        report(Section.FILES, len(chunk))
