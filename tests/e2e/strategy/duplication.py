"""What the project duplication tests share: two real servers whose Storage Service is one folder,
a source project made over the native API (objects with three locales, users and security roles,
some related to the project and some not), the document's sample body with its ids and URLs
replaced by real ones, polling a duplication to a stable status, and the doc's curl calls run by
curl itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.library import login, session

LIBRARY = "/MicroStrategyLibrary"
STABLE = {"exported", "export_failed", "completed", "import_failed", "cancelled"}
DEADLINE = 90.0

# The two configuration objects the document's sample selects (export rule 2 on type 34).
SELECTED_USERS = ("95A868464F2F105205B2848BBCB81C50", "4E70890241DBB18E6CA1D8B850952A68")
OTHER_USER = "0E5E0000000000000000000000000034"
RELATED_ROLE, OTHER_ROLE = "0E5E0000000000000000000000000044", "0E5E0000000000000000000000000045"
SAMPLE_PROJECT, SAMPLE_SOURCE, SAMPLE_TARGET = (
    "B7CA92F04B9FAE8D941C3E9B7E0CD754",
    "http://example1.com/MicroStrategyLibrary",
    "http://example2.com/MicroStrategyLibrary",
)

# Step 1's request body, as the document writes it.
SAMPLE_BODY = """{
"source": {
"environment": {
"id": "http://example1.com/MicroStrategyLibrary",
"name": "Source Environment"
},
"project": {
"id": "B7CA92F04B9FAE8D941C3E9B7E0CD754",
"name": "Tutorial"
}
},
"target": {
"environment": {
"id": "http://example2.com/MicroStrategyLibrary",
"name": "Target Environment"
},
"project": {
"name": "Target Project"
}
},
"settings": {
"import": {
"description": "this is a test description",
"defaultLocale": 2052,
"locales": [1033, 2052],
"configurationObjects": {
"conflictRules": [
{
"type": 5,
"rule": 1
},
{
"type": 34,
"rule": 6
},
{
"type": 29,
"rule": 2
},
{
"type": 44,
"rule": 2
}
],
"matchUsersByLogin": false
}
},
"export": {
"configurationObjects": {
"rules": [
{
"type": 5,
"rule": 1
},
{
"type": 34,
"rule": 2
}
],
"objects": ["95A868464F2F105205B2848BBCB81C50", "4E70890241DBB18E6CA1D8B850952A68"],
"includeAllUserGroups": false
}
}
}
}"""


@dataclass
class Project:
    id: str
    name: str


@dataclass
class Library:
    """Two servers sharing a storage folder, each with a Strategy session of the curl kind."""

    source: LiveServer
    target: LiveServer
    src: httpx.Client  # Strategy session on the source
    tgt: httpx.Client
    src_admin: httpx.Client  # native admin clients
    tgt_admin: httpx.Client
    shared: Path

    def env(self, server: LiveServer) -> str:
        return server.url + LIBRARY


def configure_storage(client: httpx.Client, folder: Path) -> None:
    body = {"sharedFileStore": {"type": "file_system", "alias": "shared", "location": str(folder)}}
    assert client.patch("/mstrServices/library/storage", json=body).status_code == 204


def seed_configuration(admin: httpx.Client) -> None:
    """Users (two the sample selects, one it does not) and two security roles, one of which the
    project's objects refer to."""
    items = [
        {"id": SELECTED_USERS[0], "type": 34, "subtype": 8704, "name": "sel-ann"},
        {"id": SELECTED_USERS[1], "type": 34, "subtype": 8704, "name": "sel-bob"},
        {"id": OTHER_USER, "type": 34, "subtype": 8704, "name": "zed"},
        {"id": RELATED_ROLE, "type": 44, "subtype": 11264, "name": "Analyst", "definition": {"privileges": [1]}},
        {"id": OTHER_ROLE, "type": 44, "subtype": 11264, "name": "Unused role", "definition": {"privileges": [2]}},
    ]
    for item in items:
        ok(admin.post("/v1/configuration-objects", json=item), 201)


def make_project(admin: httpx.Client) -> Project:
    """A source project: folders, a schema attribute translated in three locales, a report that
    refers to the related security role."""
    project = ok(admin.post("/v1/projects", json={"name": f"Tutorial-{tag()}", "description": "the tutorial"}), 201)
    objects = [
        {"type": 8, "name": "Schema Objects", "folder_path": "/"},
        {"type": 8, "name": "Public Objects", "folder_path": "/"},
        {
            "type": 12,
            "name": "Region",
            "folder_path": "/Schema Objects",
            "is_schema": True,
            "translations": {"1033": {"name": "Region"}, "2052": {"name": "地区"}, "1036": {"name": "Région"}},
        },
        {
            "type": 3,
            "name": "Sales by Region",
            "folder_path": "/Public Objects",
            "definition": {"securityRole": RELATED_ROLE},
            "translations": {"1033": {"name": "Sales by Region"}, "1036": {"name": "Ventes par région"}},
        },
    ]
    ok(admin.post(f"/v1/projects/{project['id']}/objects/batch", json={"items": objects}))
    return Project(project["id"], project["name"])


def sample(source: str, target: str, project: Project, target_name: str) -> dict[str, Any]:
    """The document's body with its ids and URLs replaced by real ones."""
    text = (
        SAMPLE_BODY.replace(SAMPLE_SOURCE, source)
        .replace(SAMPLE_TARGET, target)
        .replace(SAMPLE_PROJECT, project.id)
        .replace('"Tutorial"', json.dumps(project.name))
        .replace('"Target Project"', json.dumps(target_name))
    )
    body: dict[str, Any] = json.loads(text)
    return body


def wait(client: httpx.Client, dup_id: str, until: set[str] = STABLE, deadline: float = DEADLINE) -> dict[str, Any]:
    """GET the duplication until its status is one of ``until`` (lower or upper case)."""
    end = time.monotonic() + deadline
    while True:
        record: dict[str, Any] = ok(client.get(f"/projectDuplications/{dup_id}"))
        if record["status"].lower() in until:
            return record
        assert time.monotonic() < end, f"duplication {dup_id} still {record['status']}: {record}"
        time.sleep(0.2)


def objects(admin: httpx.Client, project_id: str) -> dict[str, dict[str, Any]]:
    """A project's objects by name."""
    items = ok(admin.get(f"/v1/projects/{project_id}/objects", params={"limit": 1000}))["items"]
    return {o["name"]: o for o in items}


def config_ids(admin: httpx.Client, object_type: int) -> set[str]:
    items = ok(admin.get("/v1/configuration-objects", params={"type": object_type, "limit": 1000}))["items"]
    return {o["id"] for o in items}


def project_named(admin: httpx.Client, name: str) -> dict[str, Any] | None:
    items = ok(admin.get("/v1/projects", params={"name": name}))["items"]
    return items[0] if items else None


def check_copied(source: httpx.Client, target: httpx.Client, project: Project, name: str) -> dict[str, Any]:
    """The target holds a project ``name`` with the source's objects, the sample's locales only
    (1033 and 2052, default 2052) and its description; returns it."""
    made = project_named(target, name)
    assert made is not None, f"no project {name!r}"
    assert made["id"] != project.id
    assert (made["description"], made["default_locale"]) == ("this is a test description", 2052)
    copied, original = objects(target, made["id"]), objects(source, project.id)
    assert set(copied) == set(original)
    assert set(copied["Region"]["translations"]) == {"1033", "2052"}  # 1036 was not asked for
    assert set(copied["Sales by Region"]["translations"]) == {"1033"}
    assert copied["Sales by Region"]["definition"] == original["Sales by Region"]["definition"]
    return made


def curl(*args: str, out: Path) -> int:
    """Run curl with the document's arguments; the body goes to ``out``; returns the HTTP status."""
    done = subprocess.run(
        ["curl", "-sS", "-o", str(out), "-w", "%{http_code}", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the document's samples are curl calls")


def start_library(servers: Servers, shared: Path, target_backend: str = "sqlite") -> Iterator[Library]:
    """The module's two servers (the source on SQLite, the target on ``target_backend``), storage
    configured on both, sessions logged in as curl does."""
    source, target = servers.start(), servers.start(target_backend)
    src_admin, tgt_admin = source.client(), target.client()
    src = session(source, login(source, application_type=None))
    tgt = session(target, login(target, application_type=None))
    configure_storage(src, shared)
    configure_storage(tgt, shared)
    seed_configuration(src_admin)
    try:
        yield Library(source, target, src, tgt, src_admin, tgt_admin, shared)
    finally:
        for client in (src, tgt, src_admin, tgt_admin):
            client.close()
