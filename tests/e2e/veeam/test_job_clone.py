"""POST /api/jobs/{ID}?action=clone against a real server on SQLite and PostgreSQL: the clone
document's samples verbatim (UIDs replaced by real ones) for each job kind, their JSON form, the
Task that comes back (202, Running, a Delete link), the task's end (Finished, Result Success and a
Related link to the new job), the new job's settings (the source's apart from the cloned fields,
a new UID, independent of the source), tasks dismissed, and every rule refused in Veeam's Error
with nothing created."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.builders import make_user
from tests.conftest import LiveServer
from tests.e2e.client import ok, run_maintenance
from tests.e2e.veeam.em import (
    NS,
    SAMPLE_BACKUP,
    SAMPLE_BACKUP_COPY,
    SAMPLE_EXAMPLE,
    SAMPLE_IMMEDIATE,
    SAMPLE_REPLICA,
    XML_BODY,
    Q,
    em,
    job_count,
    links,
    log_on,
    make_job,
    make_repository,
    text,
    veeam_error,
    wait_task,
    with_repository,
    xml,
)

CLONED_FIELDS = {"Href", "Name", "UID", "Links", "Description", "FolderName", "RepositoryUid", "VmSuffix"}
KINDS = ("Backup", "Replica", "BackupCopy", "ImmediateBackupCopy")


@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client  # the native API, to make and change content
    token: str
    repositories: tuple[str, str]
    jobs: dict[str, dict[str, Any]]  # one source job per kind

    def path(self, kind: str) -> str:
        return f"/jobs/{bare(self.jobs[kind]['uid'])}"


def bare(uid: str) -> str:
    return uid.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def env(live_server: LiveServer, http: httpx.Client) -> Iterator[Env]:
    first, second = make_repository(http), make_repository(http)
    jobs = {kind: make_job(http, kind, None if kind == "Replica" else first) for kind in KINDS}
    yield Env(live_server, http, log_on(live_server), (first, second), jobs)


def entity(client: httpx.Client, uid: str) -> dict[str, Any]:
    response = client.get(f"/jobs/{bare(uid)}", params={"format": "Entity"}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def check_task_started(root: Any, server: LiveServer) -> str:
    """The 202 body as the document shows it; returns the task's href."""
    assert root.tag == f"{Q}Task" and root.get("Type") == "Task"
    href = root.get("Href")
    task_id = text(root, "TaskId")
    assert task_id and href == f"{server.url}/api/tasks/{task_id}"
    assert links(root) == [{"Rel": "Delete", "Type": "Task", "Href": href}]
    assert (text(root, "State"), text(root, "Operation"), root.find(f"{Q}Result")) == ("Running", "CloneJob", None)
    return href


def check_clone(env: Env, client: httpx.Client, kind: str, new_uid: str, changed: dict[str, Any]) -> None:
    """The new job's entity equals the source's apart from the cloned fields, which hold ``changed``."""
    source, clone = entity(client, env.jobs[kind]["uid"]), entity(client, new_uid)
    assert clone["UID"] != source["UID"] and clone["UID"].startswith("urn:veeam:Job:")
    assert {k: v for k, v in clone.items() if k not in CLONED_FIELDS} == {
        k: v for k, v in source.items() if k not in CLONED_FIELDS
    }
    kept = {k: source.get(k) for k in ("Description", "FolderName", "RepositoryUid", "VmSuffix") if k not in changed}
    assert {k: clone.get(k) for k in (*changed, *kept)} == {**changed, **kept}


SAMPLES = [
    ("Backup", SAMPLE_BACKUP, {"FolderName": "Cloned job _2_1_2020 6_07_07 PM_"}),
    ("Replica", SAMPLE_REPLICA, {"VmSuffix": "_replica"}),
    ("BackupCopy", SAMPLE_BACKUP_COPY, {"FolderName": "Cloned job _2_11_2020 6_15_44 PM_"}),
    ("ImmediateBackupCopy", SAMPLE_IMMEDIATE, {"FolderName": "Cloned job _2_11_2020 6_17_41 PM_"}),
    ("Backup", SAMPLE_EXAMPLE, {"FolderName": "Oracle Backup 01"}),
]


@pytest.mark.parametrize(("kind", "sample", "changed"), SAMPLES, ids=[*KINDS, "example"])
def test_the_documents_samples(env: Env, kind: str, sample: str, changed: dict[str, Any]) -> None:
    repository = env.repositories[1]
    body = with_repository(sample, repository).encode()
    with em(env.server, env.token) as client:
        # The job's id as a client finds it: its reference in GET /jobs, and that reference's Href.
        (ref,) = [r for r in xml(client.get("/jobs")).findall(f"{Q}Ref") if r.get("Name") == env.jobs[kind]["name"]]
        assert ref.get("Href", "").endswith(env.path(kind))
        href = check_task_started(
            xml(client.post(ref.get("Href", ""), params={"action": "clone"}, content=body, headers=XML_BODY), 202),
            env.server,
        )
        done = xml(wait_task(client, href))
        assert (text(done, "State"), text(done, "Operation"), text(done, "TaskId")) == (
            "Finished",
            "CloneJob",
            href.rsplit("/", 1)[1],
        )
        result = done.find(f"{Q}Result")
        assert result is not None and result.get("Success") == "true" and text(result, "Message") == "Ok"
        (related,) = [link for link in links(done) if link["Rel"] == "Related"]
        name = sample.split("<JobName>")[1].split("</JobName>")[0]
        description = sample.split("<Description>")[1].split("</Description>")[0]
        assert related["Type"] == "Job" and related["Name"] == name and related["Href"].endswith("?format=Entity")
        new = xml(client.get(related["Href"]))
        assert new.tag == f"{Q}Job" and new.get("Name") == name and text(new, "JobType") == kind
        if kind != "Replica":
            changed = {**changed, "RepositoryUid": repository}
        check_clone(env, client, kind, new.get("UID", ""), {**changed, "Description": description})


def test_a_json_clone_and_its_task_in_json(env: Env) -> None:
    name = "JSON clone of a backup copy"
    spec = {
        "BackupCopyJobCloneInfo": {"JobName": name, "JobFileName": "json-copy", "RepositoryUid": env.repositories[0]}
    }
    with em(env.server, env.token, json=True) as client:
        response = client.post(env.path("BackupCopy"), params={"action": "clone", "v": "latest"}, json=spec)
        assert response.status_code == 202 and response.headers["content-type"].startswith("application/json")
        task = response.json()
        assert {k: task[k] for k in ("Type", "State", "Operation")} == {
            "Type": "Task",
            "State": "Running",
            "Operation": "CloneJob",
        }
        assert task["Links"] == [{"Rel": "Delete", "Href": task["Href"], "Type": "Task"}]
        done = wait_task(client, task["Href"]).json()
        assert done["State"] == "Finished" and done["Result"] == {"Success": True, "Message": "Ok"}
        (related,) = [link for link in done["Links"] if link["Rel"] == "Related"]
        assert related["Name"] == name
        new = client.get(related["Href"]).json()
        # No Description given (0/1): the source's is kept.
        check_clone(
            env, client, "BackupCopy", new["UID"], {"FolderName": "json-copy", "RepositoryUid": env.repositories[0]}
        )


def test_a_name_of_50_characters_and_an_independent_clone(env: Env) -> None:
    name = "N" * 50
    spec = {
        "BackupJobCloneInfo": {
            "JobName": name,
            "FolderName": "fifty",
            "RepositoryUid": env.repositories[0],
            "Description": "",
        }
    }
    with em(env.server, env.token, json=True) as client:
        task = client.post(env.path("Backup"), params={"action": "clone"}, json=spec).json()
        done = wait_task(client, task["Href"]).json()
        new_uid = client.get(done["Links"][1]["Href"]).json()["UID"]
        source = env.jobs["Backup"]
        changed = {**source["definition"], "storage": {"encryption": False}}
        ok(env.http.patch(f"/v1/jobs/{source['uid']}", json={"definition": changed}))
        try:
            assert entity(client, new_uid)["Options"] == source["definition"]
            assert entity(client, new_uid)["Description"] == ""
        finally:
            ok(env.http.patch(f"/v1/jobs/{source['uid']}", json={"definition": source["definition"]}))


def test_a_finished_task_is_removed_by_delete(env: Env) -> None:
    spec = {"ReplicaJobCloneInfo": {"JobName": "replica to dismiss", "VmSuffix": "_dr"}}
    with em(env.server, env.token, json=True) as client:
        task = client.post(env.path("Replica"), params={"action": "clone"}, json=spec).json()
        wait_task(client, task["Href"])
        assert client.delete(task["Href"]).status_code == 204
        veeam_error(client.get(task["Href"]), 404)
        veeam_error(client.delete(task["Href"]), 404)


# --- refusals ------------------------------------------------------------------------------------
def _backup(env: Env, inner: str, *, namespace: str = f' xmlns="{NS}"') -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<JobCloneSpec{namespace}>{inner}</JobCloneSpec>'.encode()


def _info(
    env: Env, name: str = "refused", *, repository: str | None = None, extra: str = "", kind: str = "BackupJobCloneInfo"
) -> str:
    uid = repository or env.repositories[0]
    fields = f"<JobName>{name}</JobName><FolderName>f</FolderName><RepositoryUid>{uid}</RepositoryUid>{extra}"
    return f"<{kind}>{fields}</{kind}>"


XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE JobCloneSpec [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<JobCloneSpec xmlns="{NS}"><BackupJobCloneInfo><JobName>&xxe;</JobName><FolderName>f</FolderName>'
    "<RepositoryUid>urn:veeam:Repository:6ee14c9a-4bc1-4783-8da1-a67e05da5218</RepositoryUid></BackupJobCloneInfo></JobCloneSpec>"
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
    f'<JobCloneSpec xmlns="{NS}"><BackupJobCloneInfo><JobName>&lol3;</JobName></BackupJobCloneInfo></JobCloneSpec>'
)


def xml_refusals(env: Env) -> dict[str, tuple[bytes, str]]:
    """name -> (body, a word the message must hold)."""
    taken = env.jobs["Replica"]["name"]
    return {
        "malformed": (_backup(env, _info(env))[:-10], "well-formed"),
        "empty": (b"", "empty"),
        "xxe": (XXE.encode(), "DTD"),
        "entity expansion": (LAUGHS.encode(), "DTD"),
        "two clone infos": (
            _backup(
                env,
                _info(env) + "<ReplicaJobCloneInfo><JobName>x</JobName><VmSuffix>s</VmSuffix></ReplicaJobCloneInfo>",
            ),
            "exactly one",
        ),
        "no clone info": (_backup(env, ""), "exactly one"),
        "name of 51": (_backup(env, _info(env, "N" * 51)), "JobName"),
        "empty name": (_backup(env, _info(env, "")), "JobName"),
        "no name": (
            _backup(
                env,
                "<BackupJobCloneInfo><FolderName>f</FolderName>"
                f"<RepositoryUid>{env.repositories[0]}</RepositoryUid></BackupJobCloneInfo>",
            ),
            "JobName",
        ),
        "no folder": (
            _backup(
                env,
                f"<BackupJobCloneInfo><JobName>x</JobName><RepositoryUid>{env.repositories[0]}</RepositoryUid></BackupJobCloneInfo>",
            ),
            "FolderName",
        ),
        "no repository": (
            _backup(env, "<BackupJobCloneInfo><JobName>x</JobName><FolderName>f</FolderName></BackupJobCloneInfo>"),
            "RepositoryUid",
        ),
        "name twice": (_backup(env, _info(env, extra="<JobName>again</JobName>")), "at most once"),
        "description twice": (
            _backup(env, _info(env, extra="<Description>a</Description><Description>b</Description>")),
            "at most once",
        ),
        "unknown element": (_backup(env, _info(env, extra="<Schedule>daily</Schedule>")), "Schedule"),
        "no namespace": (_backup(env, _info(env), namespace=""), "namespace"),
        "another root": (_backup(env, _info(env)).replace(b"JobCloneSpec", b"JobSpec"), "JobCloneSpec"),
        "malformed repository uid": (_backup(env, _info(env, repository="urn:veeam:Repository:nope")), "RepositoryUid"),
        "unknown repository": (
            _backup(env, _info(env, repository="urn:veeam:Repository:0b7b4c8e-1111-4222-8333-444455556666")),
            "repository",
        ),
        "kind mismatch": (
            _backup(env, "<ReplicaJobCloneInfo><JobName>x</JobName><VmSuffix>s</VmSuffix></ReplicaJobCloneInfo>"),
            "Replica",
        ),
        "copy info to a backup job": (_backup(env, _info(env, kind="BackupCopyJobCloneInfo")), "JobFileName"),
        "name taken": (_backup(env, _info(env, taken)), "already exists"),
    }


REFUSAL_NAMES = (
    "malformed", "empty", "xxe", "entity expansion", "two clone infos", "no clone info", "name of 51",
    "empty name", "no name", "no folder", "no repository", "name twice", "description twice", "unknown element",
    "no namespace", "another root", "malformed repository uid", "unknown repository", "kind mismatch",
    "copy info to a backup job", "name taken",
)  # fmt: skip


@pytest.mark.parametrize("case", REFUSAL_NAMES)
def test_xml_refusals_are_400_and_create_nothing(env: Env, case: str) -> None:
    refusals = xml_refusals(env)
    assert set(refusals) == set(REFUSAL_NAMES)  # each case runs
    body, word = refusals[case]
    before = job_count(env.http)
    with em(env.server, env.token) as client:
        message = veeam_error(
            client.post(env.path("Backup"), params={"action": "clone"}, content=body, headers=XML_BODY), 400
        )
    assert word.lower() in message.lower(), message
    assert "root:" not in message  # nothing of the file an external entity names
    assert job_count(env.http) == before


JSON_REFUSALS: dict[str, tuple[bytes, str]] = {
    "malformed": (b'{"BackupJobCloneInfo": {', "JSON"),
    "duplicate key": (b'{"ReplicaJobCloneInfo": {"JobName": "a", "JobName": "b", "VmSuffix": "s"}}', "at most once"),
    "two clone infos": (
        b'{"ReplicaJobCloneInfo": {"JobName": "a", "VmSuffix": "s"}, "BackupJobCloneInfo": {"JobName": "b", '
        b'"FolderName": "f", "RepositoryUid": "urn:veeam:Repository:6ee14c9a-4bc1-4783-8da1-a67e05da5218"}}',
        "exactly one",
    ),
    "name of 51": (b'{"ReplicaJobCloneInfo": {"JobName": "' + b"N" * 51 + b'", "VmSuffix": "s"}}', "JobName"),
    "not an object": (b'["ReplicaJobCloneInfo"]', "JobCloneSpec"),
    "snake case": (b'{"replica_job_clone_info": {"job_name": "a", "vm_suffix": "s"}}', "not permitted"),
    "number as name": (b'{"ReplicaJobCloneInfo": {"JobName": 5, "VmSuffix": "s"}}', "JobName"),
}


@pytest.mark.parametrize("case", list(JSON_REFUSALS))
def test_json_refusals_are_400_and_create_nothing(env: Env, case: str) -> None:
    body, word = JSON_REFUSALS[case]
    before = job_count(env.http)
    with em(env.server, env.token, json=True) as client:
        response = client.post(
            env.path("Replica"), params={"action": "clone"}, content=body, headers={"Content-Type": "application/json"}
        )
        message = veeam_error(response, 400)
    assert word.lower() in message.lower(), message
    assert job_count(env.http) == before


def test_other_refusals(env: Env) -> None:
    body = _backup(env, _info(env, "never made"))
    before = job_count(env.http)
    with em(env.server, env.token) as client:
        clone = {"action": "clone"}
        veeam_error(
            client.post("/jobs/0b7b4c8e-1111-4222-8333-444455556666", params=clone, content=body, headers=XML_BODY), 404
        )
        veeam_error(
            client.post(env.path("Backup"), params=clone, content=body, headers={"Content-Type": "text/plain"}), 415
        )
        veeam_error(client.post(env.path("Backup"), params=clone, content=body), 415)
        veeam_error(client.post(env.path("Backup"), params={"action": "explode"}, content=body, headers=XML_BODY), 400)
        veeam_error(client.post(env.path("Backup"), content=body, headers=XML_BODY), 400)
        for task in ("task-999999", "task-x", "999", "task-"):
            veeam_error(client.get(f"/tasks/{task}"), 404)
            veeam_error(client.delete(f"/tasks/{task}"), 404)
    with env.server.anonymous() as anon:
        veeam_error(anon.post(f"/api{env.path('Backup')}", params=clone, content=body, headers=XML_BODY), 401)
    assert job_count(env.http) == before


def test_operations_that_are_not_tasks_are_not_found(env: Env) -> None:
    """An operation of another kind (here daily maintenance) is not a Veeam task."""
    run_maintenance(env.http, env.server)
    ops = ok(env.http.get("/v1/operations", params={"limit": 100}))["items"]
    others = [op["number"] for op in ops if op["kind"] != "cloneJob"]
    assert others
    with em(env.server, env.token) as client:
        for number in others:
            veeam_error(client.get(f"/tasks/task-{number}"), 404)
            veeam_error(client.delete(f"/tasks/task-{number}"), 404)
    assert {op["number"] for op in ok(env.http.get("/v1/operations", params={"limit": 100}))["items"]} >= set(others)


def test_a_viewer_may_read_jobs_and_tasks_but_not_clone_run_or_stop(env: Env) -> None:
    login, password = make_user(env.http, "Viewer")
    spec = {"ReplicaJobCloneInfo": {"JobName": "viewer's clone", "VmSuffix": "_v"}}
    with em(env.server, env.token, json=True) as admin:
        task = admin.post(env.path("Replica"), params={"action": "clone"}, json=spec).json()
        wait_task(admin, task["Href"])
    before = job_count(env.http)
    with em(env.server, log_on(env.server, login, password), json=True) as viewer:
        assert viewer.get("/jobs").status_code == 200
        assert viewer.get(task["Href"]).json()["State"] == "Finished"
        other = {"ReplicaJobCloneInfo": {"JobName": "never by a viewer", "VmSuffix": "_v"}}
        veeam_error(viewer.post(env.path("Replica"), params={"action": "clone"}, json=other), 403)
        veeam_error(viewer.post(env.path("Backup"), params={"action": "start"}), 403)
        veeam_error(viewer.delete(task["Href"]), 403)
    assert job_count(env.http) == before
    with em(env.server, env.token) as admin:
        assert admin.get(task["Href"]).status_code == 200
