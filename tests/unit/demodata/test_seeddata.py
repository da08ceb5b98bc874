"""Seed data: deterministic for a seed, different across seeds, within the native API's request
models, consistent in its references, and sized as the issue asks (large checked by its declared
counts, without generating it)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from itertools import islice
from typing import Any

import pytest
from pydantic import BaseModel

from envclone.api.native import schemas
from envclone.demodata.sections import RECORD_SECTIONS, Section, key_of
from envclone.demodata.seeddata import SeedData
from envclone.demodata.sizes import COUNTS, Size
from envclone.domain.roles import Role

MODELS: dict[Section, type[BaseModel]] = {
    Section.USERS: schemas.UserCreate,
    Section.GROUPS: schemas.GroupCreate,
    Section.GROUP_MEMBERS: schemas.MemberCreate,
    Section.ROLES: schemas.RoleCreate,
    Section.ROLE_ASSIGNMENTS: schemas.AssignmentCreate,
    Section.PROJECTS: schemas.ProjectCreate,
    Section.OBJECTS: schemas.ObjectCreate,
    Section.PROFILE_FOLDERS: schemas.ProfileFolderCreate,
    Section.SUBSCRIPTIONS: schemas.SubscriptionCreate,
    Section.CONFIG_OBJECTS: schemas.ConfigObjectCreate,
    Section.REPOSITORIES: schemas.RepositoryCreate,
    Section.JOBS: schemas.JobCreate,
    **{section: schemas.RecordIn for section in RECORD_SECTIONS},
}


def fingerprint(data: SeedData) -> str:
    """A hash over every item of every section, files' bytes included."""
    h = hashlib.sha256()
    for part in data.parts():
        h.update(json.dumps([part.section, part.scope, list(part.items)], sort_keys=True, default=str).encode())
    for seed_file in data.files():
        h.update(f"{seed_file.area}/{seed_file.name}/{seed_file.size}".encode())
        for chunk in seed_file.chunks():
            h.update(chunk)
    h.update(json.dumps(data.settings(), sort_keys=True).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def small() -> dict[Section, list[dict[str, Any]]]:
    items: dict[Section, list[dict[str, Any]]] = {}
    for part in SeedData(Size.SMALL).parts():
        items.setdefault(part.section, []).extend(part.items)
    return items


def test_same_seed_gives_identical_content_and_another_seed_does_not() -> None:
    first, again, other = fingerprint(SeedData("small", 7)), fingerprint(SeedData("small", 7)), SeedData("small", 8)
    assert first == again
    assert first != fingerprint(other)


def test_a_section_does_not_depend_on_what_was_generated_before() -> None:
    fresh = list(SeedData("small", 3).records.of(Section.JOB_CONSOLE))
    used = SeedData("small", 3)
    list(used.projects.objects(0)), list(used.configuration.jobs()), list(used.records.of(Section.AUDIT))
    assert list(used.records.of(Section.JOB_CONSOLE)) == fresh


def test_small_generates_exactly_its_declared_totals(small: dict[Section, list[dict[str, Any]]]) -> None:
    data = SeedData(Size.SMALL)
    totals = data.totals()
    for section, items in small.items():
        assert len(items) == totals[section], section
    assert sum(f.size for f in data.files()) == totals[Section.FILES] == COUNTS[Size.SMALL].file_bytes
    assert len(list(data.files())) == COUNTS[Size.SMALL].files


@pytest.mark.parametrize("section", list(MODELS))
def test_items_validate_against_the_native_request_models(
    small: dict[Section, list[dict[str, Any]]], section: Section
) -> None:
    model = MODELS[section]
    for item in small[section]:
        parsed = model.model_validate(item)
        # Every field is given, so that bulk inserts see one shape and the API and direct paths agree.
        assert set(item) == set(type(parsed).model_fields), section


def test_references_point_at_generated_content(small: dict[Section, list[dict[str, Any]]]) -> None:
    logins = {u["login"] for u in small[Section.USERS]}
    groups = {g["name"] for g in small[Section.GROUPS]}
    roles = {r.value for r in Role} | {r["name"] for r in small[Section.ROLES]}
    assert len(logins) == len(small[Section.USERS]) and "admin" not in logins
    for member in small[Section.GROUP_MEMBERS]:
        assert member["member_name"] in (logins if member["member_kind"] == "user" else groups)
    for assignment in small[Section.ROLE_ASSIGNMENTS]:
        assert assignment["principal_name"] in (logins if assignment["principal_kind"] == "user" else groups)
        assert assignment["role_name"] in roles
    keys = [(a["principal_kind"], a["principal_name"], a["role_name"]) for a in small[Section.ROLE_ASSIGNMENTS]]
    assert len(keys) == len(set(keys))
    objects = {o["id"]: o for o in small[Section.OBJECTS]}
    assert len(objects) == len(small[Section.OBJECTS])
    for sub in small[Section.SUBSCRIPTIONS]:
        assert objects[sub["object_id"]]["type"] in (3, 55)
        assert sub["kind"] == "contact" or sub["recipient"] in logins
    repositories = {r["uid"] for r in small[Section.REPOSITORIES]}
    jobs = small[Section.JOBS]
    assert {j["repository_uid"] for j in jobs} - {None} <= repositories
    for job in jobs:
        assert set(job["definition"].get("sourceJobs", [])) <= {j["uid"] for j in jobs if j["job_type"] == "Backup"}


def test_content_looks_like_the_vendors(small: dict[Section, list[dict[str, Any]]]) -> None:
    objects = small[Section.OBJECTS]
    types = Counter(o["type"] for o in objects)
    assert {1, 2, 3, 4, 8, 12, 13, 55} <= set(types)
    assert all(re.fullmatch(r"[0-9A-F]{32}", o["id"]) for o in objects)
    assert all(o["is_schema"] == (o["type"] in (12, 13, 14, 15)) for o in objects)
    assert any(o["is_schema"] for o in objects) and not all(o["is_schema"] for o in objects)
    translated = [o["translations"] for o in objects if o["translations"]]
    assert translated and any("2052" in t for t in translated) and all("1033" in t for t in translated)
    assert {c["type"] for c in small[Section.CONFIG_OBJECTS]} >= {34, 44, 29, 31, 30, 51}
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert all(re.fullmatch(rf"urn:veeam:Repository:{uuid}", r["uid"]) for r in small[Section.REPOSITORIES])
    assert all(re.fullmatch(rf"urn:veeam:Job:{uuid}", j["uid"]) for j in small[Section.JOBS])
    assert {"Backup", "BackupCopy"} <= {j["job_type"] for j in small[Section.JOBS]}
    users = small[Section.USERS]
    assert 0 < sum(u["password"] is not None for u in users) <= 5
    for section in RECORD_SECTIONS:
        stamps = [r["ts"] for r in small[section]]
        assert stamps == sorted(stamps)


def test_files_stream_mixed_content_without_one_big_buffer() -> None:
    files = list(SeedData(Size.SMALL).files())
    assert {f.area for f in files} == {"inbox", "outbox"}
    assert len({(f.area, f.name) for f in files}) == len(files)
    for seed_file in files:
        chunks = list(seed_file.chunks())
        assert all(len(c) <= 1024 * 1024 for c in chunks)
        assert sum(map(len, chunks)) == seed_file.size
    text = next(f for f in files if f.name.endswith(".csv"))
    archive = next(f for f in files if f.name.endswith(".zip"))
    assert b";" in next(text.chunks())
    assert len(set(next(archive.chunks())[:4096])) > 200  # random-ish bytes


def test_large_meets_the_issue_minimums() -> None:
    large = COUNTS[Size.LARGE]
    assert large.projects >= 2
    assert large.objects >= 200_000
    assert large.users >= 5_000
    assert large.jobs >= 500
    assert large.audit >= 1_000_000
    assert large.file_bytes >= 10**9
    data = SeedData(Size.LARGE)
    assert len(data.people.logins) == large.users
    assert sum(1 for _ in data.configuration.jobs()) == large.jobs
    projects = list(data.projects.projects())
    assert len(projects) == large.projects
    assert sum(f.size for f in data.files()) == large.file_bytes


@pytest.mark.parametrize("size", list(Size))
def test_sizes_grow(size: Size) -> None:
    counts = COUNTS[size]
    smaller = [COUNTS[s] for s in list(Size)[: list(Size).index(size)]]
    for other in smaller:
        assert counts.objects > other.objects and counts.users > other.users and counts.audit > other.audit
    data = SeedData(size)
    assert len(list(data.configuration.config_objects())) == counts.config_objects
    assert len({c["id"] for c in data.configuration.config_objects()}) == counts.config_objects


def _by_key(items: list[dict[str, Any]], section: Section) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {key_of(section, item): item for item in items}


@pytest.mark.parametrize(("smaller", "larger"), [(Size.SMALL, Size.MEDIUM), (Size.MEDIUM, Size.LARGE)])
def test_sizes_nest_so_that_seeding_a_larger_size_only_adds(smaller: Size, larger: Size) -> None:
    """Every item of a smaller size is, unchanged, an item of the larger one: keyed items by key,
    objects and records as a prefix of the larger size's stream (only that prefix of it is made)."""
    big = {(p.section, tuple(p.scope.items())): p for p in SeedData(larger).parts()}
    for part in SeedData(smaller).parts():
        mine, theirs = list(part.items), big.pop((part.section, tuple(part.scope.items()))).items
        if part.section in (Section.OBJECTS, *RECORD_SECTIONS):
            assert list(islice(theirs, len(mine))) == mine, part.section
        else:
            having = _by_key(list(theirs), part.section)
            assert all(having.get(key) == item for key, item in _by_key(mine, part.section).items()), part.section
    assert {p.section for p in big.values()} <= {Section.GROUP_MEMBERS, Section.OBJECTS, Section.PROFILE_FOLDERS,
                                                  Section.SUBSCRIPTIONS}  # fmt: skip
    assert set(SeedData(smaller).files()) <= set(SeedData(larger).files())
    assert SeedData(smaller).settings() == SeedData(larger).settings()
