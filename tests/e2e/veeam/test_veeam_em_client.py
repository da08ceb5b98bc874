"""The Enterprise Manager client on PyPI (``veeam-em``), unchanged, against a real server: it logs
on (its get_token), reads its own logon session, lists jobs, and clones a job and runs the clone
through its generic ``request``, in JSON (its default) and with the document's XML sample."""

from __future__ import annotations

import time
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from veeam_em.exceptions import VeeamEmError
from veeam_em.manager import VeeamEm

from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import DEADLINE
from tests.e2e.veeam.em import SAMPLE_BACKUP, Q, make_job, make_repository, with_repository


def client(server: LiveServer) -> VeeamEm:
    em = VeeamEm(api_endpoint=server.url, ssl_verify=False, timeout=60)
    em.get_token(ADMIN, ADMIN_PASSWORD)
    return em


def finished(em: VeeamEm, href: str) -> dict[str, Any]:
    end = time.monotonic() + DEADLINE
    while True:
        task: dict[str, Any] = em.request(href)
        if task["State"] == "Finished":
            return task
        assert time.monotonic() < end, task
        time.sleep(0.05)


def test_log_on_and_list_jobs(live_server: LiveServer, http: Any) -> None:
    job = make_job(http, "Backup", make_repository(http))
    em = client(live_server)
    assert em.api_token and em.session_data["UserName"] == ADMIN
    assert em.whoami()["SessionId"] == em.session_data["SessionId"]
    (own,) = em.get_logon_sessions() or []
    assert own["SessionId"] == em.session_data["SessionId"]
    refs = em.request("/jobs")["Refs"]
    (ref,) = [r for r in refs if r["Name"] == job["name"]]
    entity = em.request(f"/jobs/{VeeamEm._get_uuid_from_uid(ref['UID'])}", params={"format": "Entity"})
    assert entity["UID"] == job["uid"] and entity["Name"] == job["name"]


def test_clone_and_run_through_the_generic_request(live_server: LiveServer, http: Any) -> None:
    repository = make_repository(http)
    job = make_job(http, "Backup", repository)
    em = client(live_server)
    uuid = VeeamEm._get_uuid_from_uid(job["uid"])
    spec = {"BackupJobCloneInfo": {"JobName": f"em {tag()}", "FolderName": "em", "RepositoryUid": repository}}
    task = em.request(f"/jobs/{uuid}", params={"action": "clone"}, payload=spec, method=VeeamEm.POST)
    assert task["State"] == "Running" and task["Operation"] == "CloneJob"
    done = finished(em, task["Href"])
    assert done["Result"] == {"Success": True, "Message": "Ok"}, done
    (related,) = [link for link in done["Links"] if link["Rel"] == "Related"]
    clone = em.request(related["Href"])
    assert clone["Name"] == spec["BackupJobCloneInfo"]["JobName"]
    started = em.request(f"/jobs/{clone['UID'].split(':')[3]}", params={"action": "start"}, method=VeeamEm.POST)
    assert finished(em, started["Href"])["Result"]["Success"] is True
    # The document's XML sample, through the same request with an XML Content-Type.
    sample = with_repository(SAMPLE_BACKUP, repository).replace("Cloned job (2/1/2020 6:07:07 PM)", f"xml {tag()}")
    answer = em.request(
        f"/jobs/{uuid}",
        params={"action": "clone"},
        headers={"Content-Type": "application/xml"},
        data=sample,
        method=VeeamEm.POST,
    )
    root = SafeET.fromstring(answer["data"])
    assert root.tag == f"{Q}Task" and root.find(f"{Q}State").text == "Running"
    # Errors come back as the client reports Veeam's: a VeeamEmError with the Message.
    with pytest.raises(VeeamEmError, match="not found"):
        em.request("/jobs/00000000-0000-0000-0000-000000000000", params={"format": "Entity"})
