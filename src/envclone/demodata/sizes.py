"""The seed sizes and what each holds. Sizes nest: every item of a smaller size is an item of each
larger one, so seeding a larger size over a smaller one only adds. Nothing here generates content."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

MiB = 1024 * 1024


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True)
class Counts:
    projects: int
    objects: int  # metadata objects over all projects, folders included
    users: int
    groups: int
    profile_folders: int  # per project
    subscriptions: int
    config_objects: int
    repositories: int
    jobs: int
    audit: int
    job_console: int
    data_management: int
    files: int
    file_bytes: int


COUNTS: dict[Size, Counts] = {
    Size.SMALL: Counts(2, 3_000, 50, 8, 10, 40, 60, 4, 20, 3_000, 2_000, 1_500, 12, 4 * MiB),
    Size.MEDIUM: Counts(4, 40_000, 1_000, 60, 100, 600, 600, 10, 100, 150_000, 50_000, 20_000, 80, 100 * MiB),
    Size.LARGE: Counts(
        8, 200_000, 5_000, 250, 400, 3_000, 2_500, 25, 500, 1_000_000, 250_000, 100_000, 400, 1024 * MiB
    ),
}
SIZES: tuple[Size, ...] = tuple(Size)  # smallest first


def split(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly."""
    scale = sum(weights)
    parts = [int(total * w / scale) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def share(total: int, projects: int) -> list[int]:
    """``total`` spread over ``projects``, the first ones holding more (as real environments do)."""
    return split(total, [1 / (i + 1) ** 0.5 for i in range(projects)])


def project_share(counts: Counts, field: Callable[[Counts], int], project: int) -> int:
    """How many of ``field`` project ``project`` holds at ``counts`` (none if it has no such project)."""
    return share(field(counts), counts.projects)[project] if project < counts.projects else 0


def introduced_at(index: int, count: Callable[[Counts], int]) -> Counts:
    """The counts of the smallest size that holds item ``index`` of a section counted by ``count``.
    An item draws its references from that size's pools, never from the size being generated, so
    it comes out the same in every size that holds it."""
    for size in SIZES:
        if index < count(COUNTS[size]):
            return COUNTS[size]
    return COUNTS[SIZES[-1]]


def layers(size: Size, count: Callable[[Counts], int]) -> list[tuple[int, int, int]]:
    """(level, first index, item count) of the items each size adds to the one below it, up to ``size``."""
    out, below = [], 0
    for level, each in enumerate(SIZES[: SIZES.index(size) + 1]):
        now = count(COUNTS[each])
        out.append((level, below, now - below))
        below = now
    return out
