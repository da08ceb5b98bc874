"""Projects and what each holds: metadata objects, profile folders and subscriptions. A project's
items in a smaller size are a prefix of its items in a larger one (each project draws from its own
streams, and an item's references come from the pools of the smallest size that holds it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from itertools import islice

from envclone.demodata.objects import object_stream
from envclone.demodata.people import People
from envclone.demodata.sections import Item
from envclone.demodata.sizes import COUNTS, Counts, project_share, share
from envclone.demodata.streams import Streams, hex32
from envclone.demodata.vocabulary import DEPTS, PROJECTS, SCHEDULES


def _smallest_holding(project: int, field: Callable[[Counts], int]) -> Callable[[int], Counts]:
    """For an item index, the counts of the smallest size in which ``project`` holds that item."""
    limits = [(project_share(counts, field, project), counts) for counts in COUNTS.values()]

    def counts_for(index: int) -> Counts:
        return next((counts for limit, counts in limits if index < limit), limits[-1][1])

    return counts_for


class Projects:
    def __init__(self, streams: Streams, counts: Counts, people: People) -> None:
        self._streams = streams
        self.counts = counts
        self._people = people

    @cached_property
    def all_projects(self) -> list[Item]:
        rng = self._streams.rng("projects")
        return [
            {
                "id": hex32(rng),
                "name": name,
                "description": f"{name} project for the {DEPTS[i % len(DEPTS)]} team",
                "default_locale": rng.choices((1033, 2052, 1036, 1031), (80, 8, 6, 6))[0],
                "owner": "planning.lead",
            }
            for i, name in enumerate(PROJECTS[: self.counts.projects])
        ]

    def projects(self) -> Iterator[Item]:
        return (dict(p) for p in self.all_projects)

    def _stream(self, project: int) -> Iterator[Item]:
        people, counts_for = self._people, _smallest_holding(project, lambda c: c.objects)

        def groups_for(index: int) -> tuple[str, ...]:
            return people.group_names(counts_for(index))

        return object_stream(self._streams.rng("objects", project), people.logins[:20], groups_for)

    def objects(self, project: int) -> Iterator[Item]:
        """Metadata objects of one project: folders, schema objects and public objects whose
        definitions refer to earlier ones."""
        return islice(self._stream(project), share(self.counts.objects, self.counts.projects)[project])

    def profile_folders(self, project: int) -> Iterator[Item]:
        # The first users have one: the same users, with the same folder ids, in every larger size.
        for user in self._people.all_users[: min(self.counts.users, self.counts.profile_folders)]:
            rng = self._streams.rng("profiles", project, user["login"])
            yield {"id": hex32(rng), "owner": user["login"], "name": user["display_name"]}

    def subscriptions(self, project: int) -> Iterator[Item]:
        rng = self._streams.rng("subscriptions", project)
        targets: list[tuple[str | None, str]] = []
        for obj in self._stream(project):  # the first reports and documents, whatever the size
            if obj["type"] in (3, 55):
                targets.append((obj["id"], obj["name"]))
                if len(targets) == 64:
                    break
        counts_for = _smallest_holding(project, lambda c: c.subscriptions)
        for index in range(share(self.counts.subscriptions, self.counts.projects)[project]):
            logins = self._people.logins[: counts_for(index).users]
            object_id, name = rng.choice(targets)
            owner, schedule = rng.choice(logins), rng.choice(SCHEDULES)
            contact = rng.random() < 0.2
            recipient = f"{rng.choice(DEPTS).lower().replace(' ', '-')}-team@partner.example.com" if contact else owner
            delivery = rng.choice(("email", "historyList", "file", "cache"))
            yield {
                "id": hex32(rng),
                "name": f"{name} - {schedule}",
                "kind": "contact" if contact else "user",
                "owner": owner,
                "recipient": recipient,
                "object_id": object_id,
                "schedule": schedule,
                "definition": {
                    "delivery": {"mode": delivery, "format": rng.choice(("PDF", "Excel", "CSV"))},
                    "compress": rng.random() < 0.3,
                    "sendNow": False,
                },
            }
