"""Repositories and jobs as Enterprise Manager lists them, against a real server on SQLite and
PostgreSQL: references by default and entities on ``format=Entity``, XML by default and Veeam's
JSON on Accept, bare UUIDs in paths, 404 in Veeam's Error for an unknown one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.e2e.veeam.em import Q, em, links, log_on, make_job, make_repository, text, veeam_error, xml


@dataclass(frozen=True)
class Env:
    server: LiveServer
    repository: str
    job: dict[str, Any]
    token: str


@pytest.fixture(scope="module")
def env(live_server: LiveServer, http: httpx.Client) -> Iterator[Env]:
    repository = make_repository(http)
    yield Env(live_server, repository, make_job(http, "Backup", repository), log_on(live_server))


def _bare(uid: str) -> str:
    return uid.rsplit(":", 1)[-1]


def test_jobs_as_references_in_xml_and_json(env: Env) -> None:
    job, url = env.job, env.server.url
    href = f"{url}/api/jobs/{_bare(job['uid'])}"
    with em(env.server, env.token) as client:
        root = xml(client.get("/jobs", params={"v": "latest"}))
        assert root.tag == f"{Q}EntityReferences"
        (ref,) = [r for r in root.findall(f"{Q}Ref") if r.get("UID") == job["uid"]]
        assert ref.attrib == {"UID": job["uid"], "Name": job["name"], "Href": href, "Type": "JobReference"}
        assert {"Rel": "Alternate", "Href": f"{href}?format=Entity", "Type": "Job", "Name": job["name"]} in links(ref)
        assert {"Rel": "Clone", "Href": f"{href}?action=clone", "Type": "Task"} in links(ref)
        one = xml(client.get(f"/jobs/{_bare(job['uid'])}"))
        assert one.tag == f"{Q}Ref" and one.attrib == ref.attrib
    with em(env.server, env.token, json=True) as client:
        body = client.get("/jobs").json()
        assert set(body) == {"Refs"}
        (found,) = [r for r in body["Refs"] if r["UID"] == job["uid"]]
        assert found["Name"] == job["name"] and found["Href"] == href and found["Type"] == "JobReference"
        assert all(set(link) <= {"Rel", "Href", "Type", "Name"} for link in found["Links"])


def test_a_job_entity(env: Env) -> None:
    job = env.job
    with em(env.server, env.token) as client:
        root = xml(client.get(f"/jobs/{_bare(job['uid'])}", params={"format": "Entity", "v": "latest"}))
        assert root.tag == f"{Q}Job" and root.get("UID") == job["uid"] and root.get("Name") == job["name"]
        assert text(root, "JobType") == "Backup" and text(root, "Description") == job["description"]
        assert text(root, "RepositoryUid") == env.repository and text(root, "FolderName") == job["folder_name"]
        assert text(root, "ScheduleEnabled") == "true" and text(root, "ScheduleConfigured") == "true"
        options = root.find(f"{Q}Options")
        assert options is not None and options.find(f"{Q}storage/{Q}retentionPolicy/{Q}quantity") is not None
    with em(env.server, env.token, json=True) as client:
        entity = client.get(f"/jobs/{_bare(job['uid'])}", params={"format": "Entity"}).json()
        assert entity["Type"] == "Job" and entity["UID"] == job["uid"] and entity["JobType"] == "Backup"
        assert entity["Options"] == job["definition"]
        listed = client.get("/jobs", params={"format": "Entity"}).json()["Jobs"]
        assert entity in listed


def test_repositories(env: Env) -> None:
    bare = _bare(env.repository)
    with em(env.server, env.token) as client:
        refs = xml(client.get("/repositories"))
        assert env.repository in {r.get("UID") for r in refs.findall(f"{Q}Ref")}
        entity = xml(client.get(f"/repositories/{bare}", params={"format": "Entity"}))
        assert entity.tag == f"{Q}Repository" and entity.get("UID") == env.repository
        capacity, free = int(text(entity, "Capacity") or 0), int(text(entity, "FreeSpace") or -1)
        assert 0 <= free <= capacity and capacity > 0
    with em(env.server, env.token, json=True) as client:
        listed = client.get("/repositories", params={"format": "Entity"}).json()["Repositories"]
        (mine,) = [r for r in listed if r["UID"] == env.repository]
        assert mine["Kind"] == "local" and mine["Capacity"] >= mine["FreeSpace"] >= 0


@pytest.mark.parametrize("json", [False, True], ids=["xml", "json"])
def test_unknown_ids_are_404(env: Env, json: bool) -> None:
    with em(env.server, env.token, json=json) as client:
        veeam_error(client.get("/jobs/0b7b4c8e-1111-4222-8333-444455556666"), 404)
        veeam_error(client.get("/jobs/0b7b4c8e-1111-4222-8333-444455556666", params={"format": "Entity"}), 404)
        veeam_error(client.get("/repositories/0b7b4c8e-1111-4222-8333-444455556666"), 404)
        veeam_error(client.get("/jobs", params={"format": "Nonsense"}), 400)
        veeam_error(client.get("/no-such-resource"), 404)


def test_openapi_declares_the_clone_body_and_the_session(env: Env) -> None:
    with env.server.anonymous() as anon:
        spec = anon.get("/openapi.json").json()
    clone = spec["paths"]["/api/jobs/{job_id}"]["post"]
    content = clone["requestBody"]["content"]
    # The body is a JobCloneSpec for action=clone; start and stop take none.
    assert set(content) == {"application/xml", "application/json"} and clone["requestBody"]["required"] is False
    assert {"BackupJobCloneInfo", "ReplicaJobCloneInfo"} <= set(content["application/json"]["schema"]["properties"])
    parameters = {p["name"] for p in clone["parameters"]}
    assert {"action", "v", "X-RestSvcSessionId", "job_id"} <= parameters
    assert {"202", "400", "401", "404", "409", "415"} <= set(clone["responses"])
    (action,) = [p for p in clone["parameters"] if p["name"] == "action"]
    assert set(action["schema"]["enum"]) == {"clone", "start", "stop"} and action["required"] is True
    logon = spec["paths"]["/api/sessionMngr/"]["post"]["responses"]["201"]
    assert "X-RestSvcSessionId" in logon["headers"]
