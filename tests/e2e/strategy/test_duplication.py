"""Project duplication as the document runs it, between two real servers sharing a storage folder:
the sample body within one environment and across two (POST on the source, PUT on the target),
the status on either side, the list under both keys, the package downloaded and restored on the
other server (by the SDK's POST and by the document's multipart PUT, sent by curl), a file that is
not a package refused with nothing changed, and versions checked before a cross-environment run.
Each time the target's content is checked, not only the status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import tag
from tests.e2e.client import digests, ok
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import (
    OTHER_ROLE,
    OTHER_USER,
    RELATED_ROLE,
    SELECTED_USERS,
    Library,
    check_copied,
    config_ids,
    curl,
    make_project,
    needs_curl,
    project_named,
    sample,
    start_library,
    wait,
)
from tests.e2e.strategy.library import API, HEX32, login, session, strategy_error

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
RECORD_KEYS = {"id", "source", "target", "createdDate", "lastUpdatedDate", "status", "progress", "message", "settings"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def lib(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Library]:
    """A SQLite source and a target on each backend."""
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"), request.param)


def check_record(record: dict[str, Any], body: dict[str, Any], statuses: set[str]) -> None:
    """The response's shape and the request echoed in it, with the settings' defaults filled."""
    assert set(record) == RECORD_KEYS, record
    assert HEX32.match(record["id"]) and record["status"] in statuses, record
    assert isinstance(record["progress"], int) and 0 <= record["progress"] <= 100
    assert DATE.match(record["createdDate"]) and DATE.match(record["lastUpdatedDate"])
    for side in ("source", "target"):
        assert record[side]["environment"] == body[side]["environment"]
        assert record[side]["project"]["name"] == body[side]["project"]["name"]
        assert HEX32.match(record[side]["creator"]["id"]) and record[side]["creator"]["name"] == "admin"
    assert record["source"]["project"]["id"] == body["source"]["project"]["id"]
    settings = record["settings"]
    assert settings["import"]["locales"] == [1033, 2052] and settings["import"]["defaultLocale"] == 2052
    assert settings["import"]["description"] == "this is a test description"
    assert {"projectObjectsPreference", "subscriptionPreferences", "configurationObjects"} <= set(settings["export"])
    assert settings["export"]["projectObjectsPreference"]["schemaObjectsOnly"] is False
    rules = {r["type"]: r["rule"] for r in settings["export"]["configurationObjects"]["rules"]}
    assert rules == {5: 1, 34: 2}
    conflict = {r["type"]: r["rule"] for r in settings["import"]["configurationObjects"]["conflictRules"]}
    assert conflict == {5: 1, 34: 6, 29: 2, 44: 2}


def test_same_environment_duplication_of_the_sample(lib: Library) -> None:
    project, name = make_project(lib.src_admin), f"Target Project {tag()}"
    env = lib.env(lib.source)
    body = sample(env, env, project, name)
    headers = {"Prefer": "respond-async", "X-MSTR-ProjectID": project.id}
    started = ok(lib.src.post("/projectDuplications", json=body, headers=headers), 201)
    check_record(started, body, {"exporting", "importing", "completed"})
    done = wait(lib.src, started["id"])
    assert (done["status"], done["progress"], done["message"]) == ("completed", 100, ""), done
    made = check_copied(lib.src_admin, lib.src_admin, project, name)
    assert done["target"]["project"]["id"] == made["id"]
    assert ok(lib.src.get(f"/projects/{made['id']}"))["name"] == name  # a project Strategy clients see


def test_cross_environment_duplication_of_the_sample(lib: Library) -> None:
    project, name = make_project(lib.src_admin), f"Target Project {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    headers = {"Prefer": "respond-async", "X-MSTR-ProjectID": project.id}
    target_before = digests(lib.tgt_admin)

    started = ok(lib.src.post("/projectDuplications", json=body, headers=headers), 201)
    check_record(started, body, {"exporting", "export_syncing", "exported"})
    dup_id = started["id"]
    on_target = ok(lib.tgt.put(f"/projectDuplications/{dup_id}", json=body, headers=headers), 201)
    check_record(on_target, body, {"import_syncing", "importing", "completed"})
    assert on_target["id"] == dup_id

    assert wait(lib.src, dup_id)["status"] == "exported"
    done = wait(lib.tgt, dup_id)
    assert (done["status"], done["progress"]) == ("completed", 100), done
    made = check_copied(lib.src_admin, lib.tgt_admin, project, name)
    assert done["target"]["project"]["id"] == made["id"]
    # Configuration objects: users by rule 2 (the two listed only), others by rule 1 (related).
    users, roles = config_ids(lib.tgt_admin, 34), config_ids(lib.tgt_admin, 44)
    assert set(SELECTED_USERS) <= users and OTHER_USER not in users
    assert RELATED_ROLE in roles and OTHER_ROLE not in roles
    changed = {k for k, v in digests(lib.tgt_admin).items() if target_before[k] != v}
    assert changed == {"artifacts", "configuration"}, changed

    for client in (lib.src, lib.tgt):  # both keys, the same list, with the total
        listed = ok(client.get("/projectDuplications", params={"offset": 0, "limit": 1000}))
        assert listed["projectDuplications"] == listed["duplications"]
        assert dup_id in {d["id"] for d in listed["duplications"]} and listed["total"] >= 1
    page = ok(lib.src.get("/projectDuplications", params={"offset": 0, "limit": 1}))
    assert len(page["duplications"]) == 1 and page["total"] >= 1


@needs_curl
def test_the_documents_curl_calls(lib: Library, tmp_path: Path) -> None:
    """Step 1 with curl (-d), the status and the list, the backup with -o, and the restoration
    sample's multipart PUT (its file path's closing quote restored: curl refuses it unclosed)."""
    project, name = make_project(lib.src_admin), f"Curl Project {tag()}"
    token = lib.src.headers["X-MSTR-AuthToken"]
    base = lib.source.url + API
    body = json.dumps(sample(lib.env(lib.source), lib.env(lib.target), project, name), indent=0)
    out = tmp_path / "out.json"
    status = curl(
        "-X", "POST", f"{base}/projectDuplications",
        "-H", "Content-Type: application/json",
        "-H", f"X-MSTR-AuthToken: {token}",
        "-H", "Prefer: respond-async",
        "-H", f"X-MSTR-ProjectID: {project.id}",
        "-d", body,
        out=out,
    )  # fmt: skip
    assert status == 201, out.read_text()
    dup_id = json.loads(out.read_text())["id"]
    wait(lib.src, dup_id, {"exported"})

    status = curl(f"{base}/projectDuplications/{dup_id}", "-H", f"X-MSTR-AuthToken: {token}", out=out)
    assert status == 200 and json.loads(out.read_text())["status"] == "exported"
    status = curl(f"{base}/projectDuplications?offset=0&limit=1", "-H", f"X-MSTR-AuthToken: {token}", out=out)
    assert status == 200 and len(json.loads(out.read_text())["projectDuplications"]) == 1

    package = tmp_path / f"{dup_id}.projdup"
    status = curl("-X", "GET", f"{base}/projectDuplications/{dup_id}/backup", "-H", f"X-MSTR-AuthToken: {token}",
                  out=package)  # fmt: skip
    assert status == 200 and package.stat().st_size > 0

    restored_name = f"New project name {tag()}"
    metadata = (
        '"{\n\\"target\\": {\n\\"environment\\": {\n\\"id\\": \\"https://demo.microstrategy.com/MicroStrategyLibrary\\",\n'
        '\\"name\\": \\"Target environment\\"\n},\n\\"project\\": {\n\\"name\\": \\"New project name\\"\n}\n},\n'
        '\\"settings\\": {\n\\"import\\": {\n\\"description\\": \\"string\\",\n\\"defaultLocale\\": 2052,\n'
        '\\"locales\\": [\n1033, 2052\n],\n\\"configurationObjects\\": {\n\\"conflictRules\\": [\n{\n'
        '\\"type\\": 0,\n\\"rule\\": 0\n}\n],\n\\"matchUsersByLogin\\": true\n}\n}\n}\n}"'
    )
    metadata = metadata.replace("https://demo.microstrategy.com/MicroStrategyLibrary", lib.env(lib.target))
    metadata = metadata.replace("New project name", restored_name)
    target_token = lib.tgt.headers["X-MSTR-AuthToken"]
    status = curl(
        "-X", "PUT", f"{lib.target.url}{API}/projectDuplications/{dup_id}",
        "-H", "Content-Type: application/json",
        "-H", f"X-MSTR-AuthToken: {target_token}",
        "--form", f'file=@"{package}"',
        "--form", f"metadata={metadata}",
        out=out,
    )  # fmt: skip
    assert status == 201, out.read_text()
    restored = json.loads(out.read_text())
    assert restored["target"]["project"]["name"] == restored_name
    assert wait(lib.tgt, restored["id"])["status"] == "completed"
    made = project_named(lib.tgt_admin, restored_name)
    assert made is not None and (made["description"], made["default_locale"]) == ("string", 2052)


def test_package_download_and_restoration_on_the_other_server(lib: Library) -> None:
    project, name = make_project(lib.src_admin), f"Packaged {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    dup_id = ok(lib.src.post("/projectDuplications", json=body), 201)["id"]
    assert wait(lib.src, dup_id)["status"] == "exported"

    response = lib.src.get(f"/projectDuplications/{dup_id}/backup")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{dup_id}.projdup"'
    assert int(response.headers["content-length"]) == len(response.content) > 0
    package = response.content

    # Not a package: refused, nothing recorded nor changed on the target.
    before, listed = digests(lib.tgt_admin), ok(lib.tgt.get("/projectDuplications"))["total"]
    metadata = json.dumps({"target": body["target"], "settings": {"import": body["settings"]["import"]}})
    for junk in (b"this is not a package", package[: len(package) // 2]):
        refused = lib.tgt.post(
            "/projectDuplications/restoration",
            files={"file": ("package.projdup", junk, "application/octet-stream")},
            data={"metadata": metadata},
        )
        strategy_error(refused, 400, "INVALID_PACKAGE")
    assert digests(lib.tgt_admin) == before and ok(lib.tgt.get("/projectDuplications"))["total"] == listed
    assert project_named(lib.tgt_admin, name) is None

    restored = lib.tgt.post(
        "/projectDuplications/restoration",
        files={"file": ("package.projdup", package, "application/octet-stream")},
        data={"metadata": metadata},
        headers={"Prefer": "respond-async"},
    )
    record = ok(restored, 201)
    assert record["status"] in {"import_syncing", "importing", "completed"}
    assert record["source"]["project"]["id"] == project.id
    assert wait(lib.tgt, record["id"])["status"] == "completed"
    check_copied(lib.src_admin, lib.tgt_admin, project, name)

    # The package comes only from an exported source side.
    strategy_error(lib.tgt.get(f"/projectDuplications/{record['id']}/backup"), 409, "ERR001")


def test_versions_are_checked_by_the_target(lib: Library) -> None:
    versions = ok(lib.src.get("/projectDuplications/versions"))
    assert versions["iServerVersion"] == ok(lib.src.get("/status"))["iServerVersion"]
    assert isinstance(versions["packageVersion"], int) and versions["metadataType"] == "envclone"
    assert lib.tgt.post("/projectDuplications/validations", json=versions).status_code == 204
    newer = {**versions, "packageVersion": 10_000}
    strategy_error(lib.tgt.post("/projectDuplications/validations", json=newer), 400, "INCOMPATIBLE_VERSIONS")
    strategy_error(lib.tgt.post("/projectDuplications/validations", json=[versions]), 400, "INVALID_REQUEST")
    strategy_error(lib.tgt.post("/projectDuplications/validations", content=b"{"), 400, "INVALID_REQUEST")


def test_delete_forgets_a_finished_duplication(lib: Library) -> None:
    project = make_project(lib.src_admin)
    env = lib.env(lib.source)
    dup_id = ok(lib.src.post("/projectDuplications", json=sample(env, env, project, f"Gone {tag()}")), 201)["id"]
    wait(lib.src, dup_id)
    assert lib.src.delete(f"/projectDuplications/{dup_id}").status_code == 204
    strategy_error(lib.src.get(f"/projectDuplications/{dup_id}"), 404, "ERR004")
    strategy_error(lib.src.delete(f"/projectDuplications/{dup_id}"), 404, "ERR004")


def test_an_sdk_session_reads_upper_case_statuses(lib: Library) -> None:
    project = make_project(lib.src_admin)
    env = lib.env(lib.source)
    dup_id = ok(lib.src.post("/projectDuplications", json=sample(env, env, project, f"Cased {tag()}")), 201)["id"]
    wait(lib.src, dup_id)
    with session(lib.source, login(lib.source, application_type=76)) as sdk:
        assert ok(sdk.get(f"/projectDuplications/{dup_id}"))["status"] == "COMPLETED"
        assert {d["status"] for d in ok(sdk.get("/projectDuplications"))["duplications"]} <= {
            s.upper() for s in ("completed", "exported", "cancelled", "import_failed", "export_failed", "importing",
                                "exporting", "export_syncing", "import_syncing", "cancelling")
        }  # fmt: skip
    assert ok(lib.src.get(f"/projectDuplications/{dup_id}"))["status"] == "completed"
