"""Content resources of the native API over real HTTP, on SQLite and PostgreSQL: CRUD round trips for
every resource, batch creation, paging and typed filters, records, settings and images, and the
per-component digest (a change moves exactly the component it touches)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from blake3 import blake3

from tests.builders import COMPONENTS, RECORD_KINDS, tag
from tests.e2e.client import digest, ok

# The JSON columns sent explicitly in round trips; creating without them is its own test below.
JSON_FIELDS: dict[str, Any] = {"definition": {"form": {"rows": [1, 2]}}, "acl": [{"user": "admin", "r": True}]}


def hex32() -> str:
    return uuid.uuid4().hex.upper()


def error_code(response: httpx.Response) -> str:
    code = response.json()["error"]["code"]
    assert isinstance(code, str)
    return code


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {name for name in COMPONENTS if before["components"][name] != after["components"][name]}


@pytest.fixture(scope="module")
def project(http: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = ok(http.post("/v1/projects", json={"name": f"shared-{tag()}"}), 201)
    return body


def round_trip(
    http: httpx.Client,
    collection: str,
    create: dict[str, Any],
    key: Callable[[dict[str, Any]], str],
    patch: dict[str, Any] | None,
) -> dict[str, Any]:
    """POST, GET, list, PATCH, GET, DELETE, GET -> 404; returns the created body."""
    created: dict[str, Any] = ok(http.post(collection, json=create), 201)
    for field, value in create.items():
        if field != "password":
            assert created[field] == value, field
    item = f"{collection}/{key(created)}"
    assert ok(http.get(item)) == created
    listed = ok(http.get(collection, params={"limit": 1000}))
    assert created in listed["items"]
    if patch is not None:
        updated = ok(http.patch(item, json=patch))
        assert updated == {**created, **patch}
        assert ok(http.get(item)) == updated
    assert http.delete(item).status_code == 204
    gone = http.get(item)
    assert (gone.status_code, error_code(gone)) == (404, "not_found")
    assert created not in ok(http.get(collection, params={"limit": 1000}))["items"]
    return created


# --- users, groups, roles ------------------------------------------------------------------------
def test_user_round_trip_never_shows_the_password(http: httpx.Client) -> None:
    login = f"user-{tag()}"
    password = f"pw-{tag()}-secret"
    created = ok(
        http.post("/v1/users", json={"login": login, "display_name": "Ann", "email": "a@x.io", "password": password}),
        201,
    )
    assert created == {"login": login, "display_name": "Ann", "email": "a@x.io", "enabled": True, "has_password": True}
    assert ok(http.get(f"/v1/users/{login}")) == created
    patched = ok(http.patch(f"/v1/users/{login}", json={"display_name": "Ann B", "enabled": False}))
    assert patched == {**created, "display_name": "Ann B", "enabled": False}
    assert ok(http.patch(f"/v1/users/{login}", json={"password": password + "2"}))["has_password"] is True
    disabled = ok(http.get("/v1/users", params={"enabled": "false", "login__prefix": login}))
    assert [u["login"] for u in disabled["items"]] == [login]
    assert ok(http.get("/v1/users", params={"enabled": "true", "login__prefix": login}))["total"] == 0
    for response in (http.get("/v1/users"), http.get(f"/v1/users/{login}")):
        assert password not in response.text and "argon2" not in response.text
    for user in [*ok(http.get("/v1/users"))["items"], ok(http.get(f"/v1/users/{login}"))]:
        assert not {"password", "password_hash"} & set(user)
    ok(
        http.post(
            "/v1/role-assignments", json={"principal_kind": "user", "principal_name": login, "role_name": "Viewer"}
        ),
        201,
    )
    assert http.delete(f"/v1/users/{login}").status_code == 204
    assert http.get(f"/v1/users/{login}").status_code == 404
    # Deleting a user forgets what it was granted.
    assert ok(http.get("/v1/role-assignments", params={"principal_name": login}))["total"] == 0


def test_users_batch(http: httpx.Client) -> None:
    prefix = f"batch-{tag()}-"
    items = [{"login": f"{prefix}{i}", "email": f"{i}@x.io", "password": f"pw{i}-long"} for i in range(5)]
    assert ok(http.post("/v1/users/batch", json={"items": items})) == {"created": 5}
    page = ok(http.get("/v1/users", params={"login__prefix": prefix}))
    assert page["total"] == 5
    assert [u["login"] for u in page["items"]] == [f"{prefix}{i}" for i in range(5)]
    assert all(u["has_password"] and "password_hash" not in u for u in page["items"])
    assert ok(http.get("/v1/users", params={"login__prefix": prefix, "email": "3@x.io"}))["total"] == 1


def test_group_and_members_round_trip(http: httpx.Client) -> None:
    group, inner, login = f"grp-{tag()}", f"inner-{tag()}", f"member-{tag()}"
    ok(http.post("/v1/users", json={"login": login}), 201)
    ok(http.post("/v1/groups", json={"name": inner}), 201)
    round_trip(
        http, "/v1/groups", {"name": f"rt-{tag()}", "description": "d"}, lambda g: g["name"], {"description": "e"}
    )

    ok(http.post("/v1/groups", json={"name": group, "description": "planners"}), 201)
    members = f"/v1/groups/{group}/members"
    round_trip(http, members, {"member_kind": "user", "member_name": login}, lambda m: f"user/{login}", None)
    batch = {"items": [{"member_kind": "user", "member_name": login}, {"member_kind": "group", "member_name": inner}]}
    assert ok(http.post(f"{members}/batch", json=batch)) == {"created": 2}
    assert ok(http.get(members))["total"] == 2
    only_groups = ok(http.get(members, params={"member_kind": "group"}))
    assert only_groups["items"] == [{"group_name": group, "member_kind": "group", "member_name": inner}]
    assert ok(http.get(f"/v1/groups/{group}/members/user/{login}"))["member_name"] == login
    assert ok(http.get("/v1/groups", params={"name__prefix": group}))["items"][0]["description"] == "planners"
    # Deleting the group takes its memberships with it.
    assert http.delete(f"/v1/groups/{group}").status_code == 204
    assert (http.get(members).status_code, error_code(http.get(members))) == (404, "not_found")
    assert ok(http.get(f"/v1/users/{login}"))["login"] == login


def test_role_round_trip(http: httpx.Client) -> None:
    created = round_trip(
        http, "/v1/roles", {"name": f"Approver {tag()}", "description": "d"}, lambda r: r["name"], {"description": "e"}
    )
    assert created["kind"] == "application"
    predefined = ok(http.get("/v1/roles", params={"kind": "predefined"}))
    assert {r["name"] for r in predefined["items"]} == {
        "Service Administrator",
        "Power User",
        "User",
        "Viewer",
        "Identity Domain Administrator",
    }
    granular = ok(http.get("/v1/roles", params={"kind": "granular"}))
    assert [r["name"] for r in granular["items"]] == ["Migrations - Administer"]


def test_role_assignment_round_trip(http: httpx.Client) -> None:
    login, group = f"ra-{tag()}", f"ra-grp-{tag()}"
    ok(http.post("/v1/users", json={"login": login}), 201)
    ok(http.post("/v1/groups", json={"name": group}), 201)
    round_trip(
        http,
        "/v1/role-assignments",
        {"principal_kind": "user", "principal_name": login, "role_name": "Power User"},
        lambda a: f"user/{login}/Power User",
        None,
    )
    batch = [
        {"principal_kind": "user", "principal_name": login, "role_name": "Viewer"},
        {"principal_kind": "group", "principal_name": group, "role_name": "Migrations - Administer"},
    ]
    assert ok(http.post("/v1/role-assignments/batch", json={"items": batch})) == {"created": 2}
    mine = ok(http.get("/v1/role-assignments", params={"principal_name": login}))
    assert mine["items"] == [batch[0]]
    by_role = ok(
        http.get("/v1/role-assignments", params={"role_name": "Migrations - Administer", "principal_kind": "group"})
    )
    assert batch[1] in by_role["items"]
    assert ok(http.get(f"/v1/role-assignments/group/{group}/Migrations - Administer")) == batch[1]


# --- artifacts -----------------------------------------------------------------------------------
def test_project_round_trip(http: httpx.Client) -> None:
    given = uuid.uuid4().hex  # lower case: stored upper case
    name = f"Plan {tag()}"
    created = ok(
        http.post("/v1/projects", json={"id": given, "name": name, "description": "d", "default_locale": 1036}), 201
    )
    assert created == {"id": given.upper(), "name": name, "description": "d", "default_locale": 1036, "owner": ""}
    assert ok(http.get("/v1/projects", params={"name": name}))["items"] == [created]
    assert ok(http.get("/v1/projects", params={"name__prefix": name[:9]}))["total"] == 1
    assert http.delete(f"/v1/projects/{created['id']}").status_code == 204
    round_trip(
        http,
        "/v1/projects",
        {"name": f"rt-{tag()}", "description": "x", "default_locale": 1033, "owner": "admin"},
        lambda p: p["id"],
        {"name": f"renamed-{tag()}", "default_locale": 1041, "owner": "someone"},
    )


def test_object_round_trip(http: httpx.Client, project: dict[str, Any]) -> None:
    body = {
        "type": 55,
        "subtype": 2,
        "name": "Revenue form",
        "folder_path": "/Library/Forms",
        "is_schema": True,
        "owner": "admin",
        "translations": {"1036": {"name": "Formulaire"}},
        **JSON_FIELDS,
    }
    created = round_trip(
        http,
        f"/v1/projects/{project['id']}/objects",
        body,
        lambda o: o["id"],
        {"name": "Revenue form v2", "definition": {"form": {"rows": [3]}}, "is_schema": False, "type": 56},
    )
    assert created["project_id"] == project["id"] and len(created["id"]) == 32


def test_create_fills_defaults_for_omitted_json_fields(http: httpx.Client, project: dict[str, Any]) -> None:
    """Optional fields have documented defaults (definition {}, acl [], translations {}); a minimal
    body must create the item, not fail on a NOT NULL column."""
    pid = project["id"]
    obj = ok(http.post(f"/v1/projects/{pid}/objects", json={"type": 3, "name": f"min-{tag()}"}), 201)
    assert (obj["definition"], obj["acl"], obj["translations"]) == ({}, [], {})
    config = ok(http.post("/v1/configuration-objects", json={"type": 34, "name": f"min-{tag()}"}), 201)
    assert config["definition"] == {}
    sub = ok(
        http.post(f"/v1/projects/{pid}/subscriptions", json={"name": "s", "kind": "user", "recipient": "admin"}), 201
    )
    assert sub["definition"] == {}
    job = ok(http.post("/v1/jobs", json={"name": f"min-{tag()}", "job_type": "Backup"}), 201)
    assert job["definition"] == {}


def test_batch_items_may_set_different_optional_fields(http: httpx.Client) -> None:
    """Each batch item keeps exactly the fields it was given, whichever item comes first."""
    pid = ok(http.post("/v1/projects", json={"name": f"mixed-{tag()}"}), 201)["id"]
    objects = f"/v1/projects/{pid}/objects"
    items = [
        {"type": 3, "name": "plain", **JSON_FIELDS, "translations": {}},
        {"type": 3, "name": "schema", "is_schema": True, "folder_path": "/s", **JSON_FIELDS, "translations": {}},
    ]
    assert ok(http.post(f"{objects}/batch", json={"items": items})) == {"created": 2}
    assert [o["name"] for o in ok(http.get(objects, params={"is_schema": "true"}))["items"]] == ["schema"]
    assert ok(http.post(f"{objects}/batch", json={"items": list(reversed(items))})) == {"created": 2}
    assert ok(http.get(objects, params={"is_schema": "true"}))["total"] == 2
    assert ok(http.get(objects, params={"folder_path": "/s"}))["total"] == 2


def test_objects_batch_paging_and_typed_filters(http: httpx.Client) -> None:
    pid = ok(http.post("/v1/projects", json={"name": f"paging-{tag()}"}), 201)["id"]
    objects = f"/v1/projects/{pid}/objects"
    items = [
        {
            "type": 3 if i % 2 else 7,
            "subtype": i % 3,
            "name": f"obj_{i:02d}" if i < 20 else f"objX{i:02d}",
            "folder_path": "/b/c" if i % 4 == 0 else "/a",
            "is_schema": i % 5 == 0,
            "owner": "admin",
            "translations": {},
            **JSON_FIELDS,
        }
        for i in range(25)
    ]
    assert ok(http.post(f"{objects}/batch", json={"items": items})) == {"created": 25}

    def count(**params: str) -> int:
        page = ok(http.get(objects, params=params))
        assert len(page["items"]) == min(page["total"], page["limit"])
        return int(page["total"])

    assert count() == 25
    assert count(type="3") == 12
    assert count(type="7") == 13
    assert count(type="7", is_schema="true") == 3  # 0, 10, 20
    assert count(is_schema="false") == 20
    assert count(is_schema="1") == 5
    assert count(subtype="2") == 8
    assert count(type="99") == 0
    assert count(folder_path="/b/c") == 7
    assert count(folder_path__prefix="/b") == 7
    assert count(name__prefix="obj_") == 20  # "_" is literal, not a LIKE wildcard: objX.. do not match
    assert count(name="obj_07", type="3") == 1

    pages = [ok(http.get(objects, params={"limit": 10, "offset": offset})) for offset in (0, 10, 20, 30)]
    assert [(p["total"], p["limit"], p["offset"], len(p["items"])) for p in pages] == [
        (25, 10, 0, 10),
        (25, 10, 10, 10),
        (25, 10, 20, 5),
        (25, 10, 30, 0),
    ]
    ids = [o["id"] for p in pages for o in p["items"]]
    assert len(set(ids)) == 25
    assert ids == sorted(ids)  # ordered by key
    full = ok(http.get(objects, params={"limit": 1000}))
    assert [o["id"] for o in full["items"]] == ids
    assert {o["name"] for o in full["items"]} == {i["name"] for i in items}


def test_profile_folder_round_trip(http: httpx.Client, project: dict[str, Any]) -> None:
    folders = f"/v1/projects/{project['id']}/profile-folders"
    round_trip(http, folders, {"owner": "admin", "name": "My reports"}, lambda f: f["id"], {"name": "Reports"})
    batch = [{"owner": "ann", "name": f"f{i}"} for i in range(3)] + [{"owner": "bob", "name": "g"}]
    assert ok(http.post(f"{folders}/batch", json={"items": batch})) == {"created": 4}
    assert ok(http.get(folders, params={"owner": "ann"}))["total"] == 3


def test_subscription_round_trip(http: httpx.Client, project: dict[str, Any]) -> None:
    subs = f"/v1/projects/{project['id']}/subscriptions"
    body = {
        "name": "Daily",
        "kind": "contact",
        "owner": "admin",
        "recipient": "ops@example.com",
        "object_id": hex32(),
        "schedule": "0 6 * * *",
        "definition": {"format": "pdf"},
    }
    round_trip(http, subs, body, lambda s: s["id"], {"schedule": "0 7 * * *", "definition": {"format": "xlsx"}})
    batch = [{"name": f"s{i}", "kind": "user", "recipient": f"u{i}", "definition": {}} for i in range(3)]
    assert ok(http.post(f"{subs}/batch", json={"items": batch})) == {"created": 3}
    assert ok(http.get(subs, params={"kind": "user", "recipient": "u1"}))["total"] == 1


def test_configuration_object_round_trip_and_filters(http: httpx.Client) -> None:
    round_trip(
        http,
        "/v1/configuration-objects",
        {"type": 44, "subtype": 1, "name": f"Role {tag()}", "description": "d", "definition": {"rights": ["read"]}},
        lambda c: c["id"],
        {"name": f"Role {tag()}", "subtype": 2, "definition": {"rights": []}},
    )
    type_code = 30000 + int(tag()[:4], 16) % 1000  # a type no other test uses
    items = [{"type": type_code, "subtype": i % 2, "name": f"cfg{i}", "definition": {"i": i}} for i in range(6)]
    assert ok(http.post("/v1/configuration-objects/batch", json={"items": items})) == {"created": 6}
    assert ok(http.get("/v1/configuration-objects", params={"type": type_code}))["total"] == 6
    assert ok(http.get("/v1/configuration-objects", params={"type": type_code, "subtype": 1}))["total"] == 3
    found = ok(http.get("/v1/configuration-objects", params={"type": type_code, "name": "cfg4"}))["items"]
    assert [c["definition"] for c in found] == [{"i": 4}]


def test_repository_and_job_round_trip(http: httpx.Client) -> None:
    repo = ok(http.post("/v1/repositories", json={"name": f"repo-{tag()}", "path": "/mnt/b"}), 201)
    assert repo["uid"].startswith("urn:veeam:Repository:") and repo["kind"] == "local"
    round_trip(
        http,
        "/v1/repositories",
        {
            "uid": f"urn:veeam:Repository:{uuid.uuid4()}",
            "name": f"r-{tag()}",
            "kind": "s3",
            "path": "b",
            "description": "",
        },
        lambda r: r["uid"],
        {"description": "offsite", "path": "c"},
    )
    job_body = {
        "name": f"job-{tag()}",
        "job_type": "Backup",
        "description": "nightly",
        "repository_uid": repo["uid"],
        "folder_name": "Nightly",
        "schedule_enabled": True,
        "definition": {"vms": ["a", "b"]},
    }
    round_trip(http, "/v1/jobs", job_body, lambda j: j["uid"], {"schedule_enabled": False, "description": "weekly"})
    batch = [
        {"name": f"bj-{tag()}", "job_type": kind, "repository_uid": repo["uid"], "definition": {}}
        for kind in ("Backup", "Replica", "BackupCopy")
    ]
    assert ok(http.post("/v1/jobs/batch", json={"items": batch})) == {"created": 3}
    assert ok(http.get("/v1/jobs", params={"repository_uid": repo["uid"]}))["total"] == 3
    assert ok(http.get("/v1/jobs", params={"repository_uid": repo["uid"], "job_type": "Replica"}))["total"] == 1
    assert ok(http.get("/v1/repositories", params={"name": repo["name"]}))["items"] == [repo]


# --- records -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_records_append_and_query(http: httpx.Client, kind: str) -> None:
    actor = f"actor-{tag()}"
    items = [
        {"ts": "2024-01-10T08:00:00Z", "actor": actor, "action": "login", "status": "ok", "details": {"n": 1}},
        {"ts": "2024-02-10T08:00:00+02:00", "actor": actor, "action": "export", "subject": "Plan", "status": "ok"},
        {"ts": "2024-03-10T08:00:00", "actor": actor, "action": "login", "status": "failed"},
        {"actor": actor, "action": "now"},
    ]
    assert ok(http.post(f"/v1/records/{kind}", json={"items": items}), 201) == {"created": 4}
    records = f"/v1/records/{kind}"

    everything = ok(http.get(records, params={"actor": actor}))
    assert everything["total"] == 4
    assert [r["action"] for r in everything["items"]] == ["now", "login", "export", "login"]  # newest first
    assert everything["items"][2]["ts"] == "2024-02-10T06:00:00"  # stored in UTC
    assert everything["items"][3]["details"] == {"n": 1}
    assert everything["items"][0]["details"] == {}

    window = ok(
        http.get(records, params={"actor": actor, "since": "2024-02-01T00:00:00Z", "until": "2024-03-10T08:00:00"})
    )
    assert [r["action"] for r in window["items"]] == ["export"]  # until is exclusive
    since = ok(http.get(records, params={"actor": actor, "since": "2024-02-10T06:00:00"}))
    assert since["total"] == 3  # since is inclusive
    assert ok(http.get(records, params={"actor": actor, "until": "2024-01-10T09:00:00+01:00"}))["total"] == 0
    assert ok(http.get(records, params={"actor": actor, "action": "login", "status": "failed"}))["total"] == 1
    paged = ok(http.get(records, params={"actor": actor, "limit": 2, "offset": 1}))
    assert (paged["total"], [r["action"] for r in paged["items"]]) == (4, ["login", "export"])
    for other in RECORD_KINDS:
        if other != kind:
            assert ok(http.get(f"/v1/records/{other}", params={"actor": actor}))["total"] == 0


# --- settings ------------------------------------------------------------------------------------
def test_settings_get_and_patch(http: httpx.Client) -> None:
    current = ok(http.get("/v1/settings"))
    assert {"name", "service_type", "version", "maintenance_start_time", "maintenance_time_zone", "theme"} <= set(
        current
    )
    assert current["service_type"] == "Planning"
    name = f"Close {tag()}"
    changes = {
        "maintenance_start_time": "23:15",
        "maintenance_time_zone": "Europe/Paris",
        "email_notifications": False,
        "business_process_name": name,
    }
    updated = ok(http.patch("/v1/settings", json=changes))
    assert {k: updated[k] for k in changes} == changes
    assert ok(http.get("/v1/settings")) == updated
    again = ok(http.patch("/v1/settings", json={"theme": "Sky"}))
    assert again["theme"] == "Sky" and again["business_process_name"] == name


def test_settings_images(http: httpx.Client) -> None:
    logo = b"\x89PNG\r\n\x1a\n" + tag().encode() * 1000
    stored = ok(http.put("/v1/settings/images/logo", content=logo, headers={"content-type": "image/png"}))
    assert stored == {"hash": blake3(logo).hexdigest(), "size": len(logo), "content_type": "image/png"}
    got = http.get("/v1/settings/images/logo")
    assert got.status_code == 200 and got.content == logo and got.headers["content-type"] == "image/png"
    assert ok(http.get("/v1/settings"))["logo_image"] == stored

    background = b"GIF89a" + tag().encode()
    ok(http.put("/v1/settings/images/background", content=background, headers={"content-type": "image/gif"}))
    assert http.get("/v1/settings/images/background").content == background
    replaced = logo[::-1]
    ok(http.put("/v1/settings/images/logo", content=replaced, headers={"content-type": "image/png"}))
    assert http.get("/v1/settings/images/logo").content == replaced
    assert http.get("/v1/settings/images/background").content == background
    missing = http.get("/v1/settings/images/banner")
    assert (missing.status_code, error_code(missing)) == (404, "not_found")


# --- digests -------------------------------------------------------------------------------------
def _new_record(kind: str) -> Callable[[httpx.Client, dict[str, Any]], None]:
    def act(http: httpx.Client, _project: dict[str, Any]) -> None:
        ok(http.post(f"/v1/records/{kind}", json={"items": [{"actor": tag()}]}), 201)

    return act


CHANGES: dict[str, tuple[str, Callable[[httpx.Client, dict[str, Any]], None]]] = {
    "project": ("artifacts", lambda h, p: ok(h.post("/v1/projects", json={"name": tag()}), 201)),
    "object": (
        "artifacts",
        lambda h, p: ok(
            h.post(
                f"/v1/projects/{p['id']}/objects", json={"type": 1, "name": tag(), **JSON_FIELDS, "translations": {}}
            ),
            201,
        ),
    ),
    "project-rename": ("artifacts", lambda h, p: ok(h.patch(f"/v1/projects/{p['id']}", json={"description": tag()}))),
    "user": ("users", lambda h, p: ok(h.post("/v1/users", json={"login": tag()}), 201)),
    "group": ("users", lambda h, p: ok(h.post("/v1/groups", json={"name": tag()}), 201)),
    "admin-display-name": ("users", lambda h, p: ok(h.patch("/v1/users/admin", json={"display_name": tag()}))),
    "config-object": (
        "configuration",
        lambda h, p: ok(h.post("/v1/configuration-objects", json={"type": 34, "name": tag(), "definition": {}}), 201),
    ),
    "repository": ("jobs", lambda h, p: ok(h.post("/v1/repositories", json={"name": tag()}), 201)),
    "jobConsole-record": ("jobConsole", _new_record("jobConsole")),
    "applicationAudit-record": ("applicationAudit", _new_record("applicationAudit")),
    "dataManagement-record": ("dataManagement", _new_record("dataManagement")),
    "file": ("files", lambda h, p: ok(h.put(f"/v1/files/outbox/{tag()}.txt", content=tag().encode()), 201)),
    "setting": ("settings", lambda h, p: ok(h.patch("/v1/settings", json={"business_process_name": tag()}))),
    "image": ("settings", lambda h, p: ok(h.put("/v1/settings/images/logo", content=tag().encode()))),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_digest_moves_only_the_changed_component(http: httpx.Client, project: dict[str, Any], change: str) -> None:
    component, act = CHANGES[change]
    before = digest(http)
    assert set(before["components"]) == set(COMPONENTS)
    assert digest(http) == before  # stable when nothing changed
    act(http, project)
    after = digest(http)
    assert changed(before, after) == {component}
    assert after["environment"] != before["environment"]
    assert digest(http) == after


def test_digest_returns_when_a_change_is_undone(http: httpx.Client) -> None:
    before = digest(http)
    created = ok(http.post("/v1/configuration-objects", json={"type": 34, "name": tag(), "definition": {"a": 1}}), 201)
    assert changed(before, digest(http)) == {"configuration"}
    assert http.delete(f"/v1/configuration-objects/{created['id']}").status_code == 204
    assert digest(http) == before

    login = f"undo-{tag()}"
    ok(http.post("/v1/users", json={"login": login}), 201)
    ok(
        http.post(
            "/v1/role-assignments", json={"principal_kind": "user", "principal_name": login, "role_name": "Viewer"}
        ),
        201,
    )
    assert changed(before, digest(http)) == {"users"}
    assert http.delete(f"/v1/users/{login}").status_code == 204
    assert digest(http) == before
