"""Veeam's XML both ways: responses in Veeam's namespace with the model's attributes as
attributes and lists as Veeam repeats them; request bodies read into dicts with each element at
most once, and DTDs, entities and external references refused before anything is resolved."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from envclone.api.veeam import schemas, xmlcodec
from envclone.api.veeam.xmlcodec import MalformedXml
from envclone.errors import InvalidRequest

NS = schemas.NAMESPACE
Q = f"{{{NS}}}"


def test_a_task_as_the_document_shows_it() -> None:
    task = schemas.Task(
        href="https://h/api/tasks/task-1",
        links=[schemas.Link(rel="Delete", type="Task", href="https://h/api/tasks/task-1")],
        task_id="task-1",
        state="Finished",
        operation="CloneJob",
        result=schemas.TaskResult(success=True, message="Ok"),
    )
    data = xmlcodec.dumps(task, "Task")
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<Task ')
    root = SafeET.fromstring(data)
    assert root.tag == f"{Q}Task" and root.attrib == {"Type": "Task", "Href": "https://h/api/tasks/task-1"}
    assert [child.tag for child in root] == [f"{Q}{n}" for n in ("Links", "TaskId", "State", "Operation", "Result")]
    link = root.find(f"{Q}Links/{Q}Link")
    assert link is not None and link.attrib == {"Rel": "Delete", "Type": "Task", "Href": "https://h/api/tasks/task-1"}
    result = root.find(f"{Q}Result")
    assert result is not None and result.get("Success") == "true" and result.findtext(f"{Q}Message") == "Ok"


def test_references_repeat_without_a_wrapper_and_free_form_options_are_elements() -> None:
    ref = schemas.Ref(uid="urn:veeam:Job:1", name="j", href="h", type="JobReference", links=[])
    root = SafeET.fromstring(xmlcodec.dumps(schemas.EntityReferences(refs=[ref, ref]), "EntityReferences"))
    assert [child.tag for child in root] == [f"{Q}Ref", f"{Q}Ref"]
    job = schemas.Job(
        href="h", name="j", uid="u", links=[], job_type="Backup", description="", schedule_configured=False,
        schedule_enabled=True, options={"storage": {"quantity": 7}, "vms": [{"name": "a"}], "odd key": True},
    )  # fmt: skip
    root = SafeET.fromstring(xmlcodec.dumps(job, "Job"))
    assert root.findtext(f"{Q}Options/{Q}storage/{Q}quantity") == "7"
    assert root.findtext(f"{Q}Options/{Q}vms/{Q}Item/{Q}name") == "a"
    entry = root.find(f"{Q}Options/{Q}Entry")
    assert entry is not None and entry.get("Key") == "odd key" and entry.text == "true"
    assert root.findtext(f"{Q}ScheduleEnabled") == "true" and root.find(f"{Q}FolderName") is None


def _spec(inner: str) -> bytes:
    return f'<JobCloneSpec xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{inner}</JobCloneSpec>'.encode()


def test_a_spec_reads_as_nested_fields() -> None:
    body = _spec("<ReplicaJobCloneInfo>\n <JobName>a</JobName>\n <VmSuffix>_r</VmSuffix>\n</ReplicaJobCloneInfo>")
    assert xmlcodec.loads(body, "JobCloneSpec") == {"ReplicaJobCloneInfo": {"JobName": "a", "VmSuffix": "_r"}}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", MalformedXml),
        (b"<JobCloneSpec", MalformedXml),
        (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><JobCloneSpec>&x;</JobCloneSpec>', MalformedXml),
        (b'<!DOCTYPE a [<!ENTITY x "xx">]><JobCloneSpec>&x;</JobCloneSpec>', MalformedXml),
        (b"<!DOCTYPE a><JobCloneSpec/>", MalformedXml),
        (_spec("<A>1</A><A>2</A>"), InvalidRequest),
        (_spec("<A>text<B/></A>"), InvalidRequest),
        (_spec("<A><B/>tail</A>"), InvalidRequest),
        (b"<JobCloneSpec><A/></JobCloneSpec>", InvalidRequest),
        (_spec('<x:A xmlns:x="urn:other"/>'), InvalidRequest),
        (f'<Other xmlns="{NS}"/>'.encode(), InvalidRequest),
    ],
    ids=["empty", "unclosed", "xxe", "internal entity", "dtd", "twice", "mixed", "tail", "no namespace", "foreign",
         "other root"],
)  # fmt: skip
def test_refused_bodies(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        xmlcodec.loads(body, "JobCloneSpec")
    assert str(caught.value)  # a message the dialect shows in its Error (400)
