"""The kinds of seed content, the keys that identify an item of each (the native API's primary
keys, so that what exists can be told apart from what is missing), and how items are batched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Any, TypeVar

from envclone.domain.components import Component

T = TypeVar("T")
Item = dict[str, Any]


class Section(StrEnum):
    """The kinds of seed content, in the order they are created (references point backwards)."""

    USERS = "users"
    GROUPS = "groups"
    GROUP_MEMBERS = "group members"
    ROLES = "roles"
    ROLE_ASSIGNMENTS = "role assignments"
    PROJECTS = "projects"
    OBJECTS = "objects"
    PROFILE_FOLDERS = "profile folders"
    SUBSCRIPTIONS = "subscriptions"
    CONFIG_OBJECTS = "configuration objects"
    REPOSITORIES = "repositories"
    JOBS = "jobs"
    AUDIT = Component.APPLICATION_AUDIT.value
    JOB_CONSOLE = Component.JOB_CONSOLE.value
    DATA_MANAGEMENT = Component.DATA_MANAGEMENT.value
    FILES = "files"
    SETTINGS = "settings"


RECORD_SECTIONS = (Section.AUDIT, Section.JOB_CONSOLE, Section.DATA_MANAGEMENT)

# The fields that identify an item within its scope. Records have no key: they are append-only, and
# a seeded environment's records of a kind are a prefix of the seed's stream, so a count says which.
KEYS: dict[Section, tuple[str, ...]] = {
    Section.USERS: ("login",),
    Section.GROUPS: ("name",),
    Section.GROUP_MEMBERS: ("member_kind", "member_name"),
    Section.ROLES: ("name",),
    Section.ROLE_ASSIGNMENTS: ("principal_kind", "principal_name", "role_name"),
    Section.PROJECTS: ("id",),
    Section.OBJECTS: ("id",),
    Section.PROFILE_FOLDERS: ("id",),
    Section.SUBSCRIPTIONS: ("id",),
    Section.CONFIG_OBJECTS: ("id",),
    Section.REPOSITORIES: ("uid",),
    Section.JOBS: ("uid",),
}


def key_of(section: Section, item: Item) -> tuple[Any, ...]:
    return tuple(item[name] for name in KEYS[section])


@dataclass(frozen=True)
class SectionItems:
    """Items of one section for one scope (the path parameters: project_id or group_name)."""

    section: Section
    items: Iterator[Item]
    scope: dict[str, str] = field(default_factory=dict)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most ``size`` items, lazily (batches for bulk inserts and batch requests)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
