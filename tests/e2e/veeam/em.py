"""What the Veeam tests share: logging on as Enterprise Manager clients do, clients that send the
session id, reading Veeam's XML and JSON bodies and its Error shape, the documents' own XML
samples, and making jobs and repositories to clone through the native API."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET  # the element type; responses are parsed by defusedxml
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx

from tests.builders import tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import DEADLINE, ok

API = "/api"
NS = "http://www.veeam.com/ent/v1.0"
Q = f"{{{NS}}}"
HEADER = "X-RestSvcSessionId"
JSON = {"Accept": "application/json"}
XML_BODY = {"Content-Type": "application/xml"}

# The clone document's four request samples, verbatim; their repository UIDs are replaced by real
# ones before they are sent.
SAMPLE_BACKUP = """<?xml version="1.0" encoding="utf-8"?>
<JobCloneSpec xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0">
 <BackupJobCloneInfo>
   <JobName>Cloned job (2/1/2020 6:07:07 PM)</JobName>
   <FolderName>Cloned job _2_1_2020 6_07_07 PM_</FolderName>
   <RepositoryUid>urn:veeam:Repository:6ee14c9a-4bc1-4783-8da1-a67e05da5218</RepositoryUid>
   <Description>This job was created by cloning CRM Backup job</Description>
 </BackupJobCloneInfo>
</JobCloneSpec>"""
SAMPLE_REPLICA = """<?xml version="1.0" encoding="utf-8"?>
<JobCloneSpec xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0">
 <ReplicaJobCloneInfo>
   <JobName>Cloned job (2/11/2020 6:13:50 PM)</JobName>
   <VmSuffix>_replica</VmSuffix>
   <Description>This job was created by cloning Appserver Replication job</Description>
 </ReplicaJobCloneInfo>
</JobCloneSpec>"""
SAMPLE_BACKUP_COPY = """<?xml version="1.0" encoding="utf-8"?>
<JobCloneSpec xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0">
 <BackupCopyJobCloneInfo>
   <JobName>Cloned job (2/11/2020 6:15:44 PM)</JobName>
   <JobFileName>Cloned job _2_11_2020 6_15_44 PM_</JobFileName>
   <RepositoryUid>urn:veeam:Repository:8a511e84-067a-4f0c-a30d-ad79092691be</RepositoryUid>
   <Description>This job was created by cloning CRM Backup Copy job</Description>
 </BackupCopyJobCloneInfo>
</JobCloneSpec>"""
SAMPLE_IMMEDIATE = """<?xml version="1.0" encoding="utf-8"?>
<JobCloneSpec xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.veeam.com/ent/v1.0">
 <ImmediateBackupCopyJobCloneInfo>
   <JobName>Cloned job (2/11/2020 6:17:41 PM)</JobName>
   <Description>This job was created by cloning Backup Copy job</Description>
   <RepositoryUid>urn:veeam:Repository:cf99cfbb-e097-432c-bafb-6558d3957f5b</RepositoryUid>
   <JobFileName>Cloned job _2_11_2020 6_17_41 PM_</JobFileName>
 </ImmediateBackupCopyJobCloneInfo>
</JobCloneSpec>"""
# The example request of the document (a backup job clone), verbatim.
SAMPLE_EXAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<JobCloneSpec xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <BackupJobCloneInfo>
   <JobName>Oracle Backup 01</JobName>
   <FolderName>Oracle Backup 01</FolderName>
   <RepositoryUid>urn:veeam:Repository:cbd9a4b6-b9ed-4cd6-a091-75b6481c9d55</RepositoryUid>
   <Description>Cloned Oracle backup job</Description>
 </BackupJobCloneInfo>
</JobCloneSpec>"""
SAMPLE_REPOSITORIES = (
    "urn:veeam:Repository:6ee14c9a-4bc1-4783-8da1-a67e05da5218",
    "urn:veeam:Repository:8a511e84-067a-4f0c-a30d-ad79092691be",
    "urn:veeam:Repository:cf99cfbb-e097-432c-bafb-6558d3957f5b",
    "urn:veeam:Repository:cbd9a4b6-b9ed-4cd6-a091-75b6481c9d55",
)


def with_repository(sample: str, repository_uid: str) -> str:
    for uid in SAMPLE_REPOSITORIES:
        sample = sample.replace(uid, repository_uid)
    return sample


def log_on(server: LiveServer, user: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
    """A new logon session's id, as the X-RestSvcSessionId header gives it."""
    with server.anonymous() as anon:
        response = anon.post(f"{API}/sessionMngr/", params={"v": "latest"}, auth=(user, password))
    assert response.status_code == 201, response.text
    token = response.headers[HEADER]
    assert token and token not in response.text
    return token


def em(server: LiveServer, token: str, *, json: bool = False) -> httpx.Client:
    """A client that sends ``token`` as Enterprise Manager clients do (no cookie, no other
    credential), asking for JSON or (by default) XML."""
    headers = {HEADER: token, **(JSON if json else {})}
    return httpx.Client(base_url=server.url + API, headers=headers, timeout=60)


def xml(response: httpx.Response, status: int = 200) -> ET.Element:
    """The XML body of a response that must have ``status``."""
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/xml"), response.headers
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>'), response.text
    root: ET.Element = SafeET.fromstring(response.content)
    return root


def veeam_error(response: httpx.Response, status: int) -> str:
    """Veeam's Error in XML (attributes) or JSON (keys), whichever the response is; its Message."""
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        assert set(body) == {"Message", "StatusCode"} and body["StatusCode"] == status, body
        message = body["Message"]
    else:
        root = xml(response, status)
        assert root.tag == f"{Q}Error" and list(root) == [], response.text
        assert set(root.attrib) == {"Message", "StatusCode"} and root.get("StatusCode") == str(status), root.attrib
        message = root.get("Message", "")
    assert isinstance(message, str) and message
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="RestSvc"'
    return message


def links(element: ET.Element) -> list[dict[str, str]]:
    found = element.find(f"{Q}Links")
    assert found is not None, ET.tostring(element)
    return [dict(link.attrib) for link in found.findall(f"{Q}Link")]


def text(element: ET.Element, name: str) -> str | None:
    found = element.find(f"{Q}{name}")
    return None if found is None else (found.text or "")


# --- content to clone, through the native API ---------------------------------------------------
DEFINITION = {
    "virtualMachines": {"includes": [{"type": "VirtualMachine", "name": "vm-crm-01", "hostName": "vc1"}]},
    "storage": {"retentionPolicy": {"type": "RestorePoints", "quantity": 14}, "encryption": True},
    "schedule": {"daily": {"isEnabled": True, "localTime": "22:30"}},
}


def make_repository(http: httpx.Client) -> str:
    body = {"name": f"repo-{tag()}", "kind": "local", "path": f"repos/{tag()}", "description": "a test repository"}
    uid: str = ok(http.post("/v1/repositories", json=body), 201)["uid"]
    return uid


def make_job(http: httpx.Client, job_type: str, repository_uid: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{job_type} job {tag()}",
        "job_type": job_type,
        "description": f"the {job_type} source",
        "repository_uid": repository_uid,
        "folder_name": f"folder-{tag()}" if repository_uid else "",
        "schedule_enabled": True,
        "definition": {**DEFINITION, **({"vmSuffix": "_src"} if job_type == "Replica" else {})},
    }
    job: dict[str, Any] = ok(http.post("/v1/jobs", json=body), 201)
    return job


def job_count(http: httpx.Client) -> int:
    total: int = ok(http.get("/v1/jobs", params={"limit": 1}))["total"]
    return total


def wait_task(client: httpx.Client, href: str, deadline: float = DEADLINE) -> httpx.Response:
    """GET a task until its State is Finished (bounded); the last response."""
    end = time.monotonic() + deadline
    while True:
        response = client.get(href)
        assert response.status_code == 200, response.text
        state = response.json()["State"] if "json" in response.headers["content-type"] else text(xml(response), "State")
        assert state in ("Running", "Finished"), response.text
        if state == "Finished":
            return response
        assert time.monotonic() < end, f"task {href} still running after {deadline}s"
        time.sleep(0.05)  # pacing only: the loop ends on the task's own state
