"""The job clone request (domain) and its Veeam form: each kind's required and refused fields, the
50-character name, exactly one clone info, and the cloned row (the source's settings apart from
the cloned fields, a new UID, a definition of its own)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from envclone.api.body import validate
from envclone.api.veeam.schemas import JobCloneSpec
from envclone.domain.job_clone import VM_SUFFIX, JobCloneRequest, JobType, cloned_row
from envclone.errors import InvalidRequest

REPO = "urn:veeam:Repository:6ee14c9a-4bc1-4783-8da1-a67e05da5218"
SOURCE: dict[str, Any] = {
    "uid": "urn:veeam:Job:1",
    "name": "src",
    "job_type": "Backup",
    "description": "the source",
    "repository_uid": "urn:veeam:Repository:old",
    "folder_name": "old",
    "schedule_enabled": True,
    "definition": {"storage": {"quantity": 7}, "vms": [{"name": "a"}]},
}


def test_each_kind_requires_its_fields() -> None:
    JobCloneRequest(source_uid="s", job_type=JobType.REPLICA, name="r", vm_suffix="_r").check()
    with pytest.raises(InvalidRequest, match="vm_suffix"):
        JobCloneRequest(source_uid="s", job_type=JobType.REPLICA, name="r").check()
    with pytest.raises(InvalidRequest, match="does not take folder_name"):
        JobCloneRequest(source_uid="s", job_type=JobType.REPLICA, name="r", vm_suffix="_r", folder_name="f").check()
    with pytest.raises(InvalidRequest, match="repository_uid"):
        JobCloneRequest(source_uid="s", job_type=JobType.BACKUP_COPY, name="c", folder_name="f").check()
    with pytest.raises(ValidationError):
        JobCloneRequest(source_uid="s", job_type=JobType.BACKUP, name="N" * 51, folder_name="f", repository_uid=REPO)


def test_the_cloned_row_is_the_sources_apart_from_the_cloned_fields() -> None:
    request = JobCloneRequest(source_uid="s", job_type=JobType.BACKUP, name="new", folder_name="f", repository_uid=REPO)
    row = cloned_row(SOURCE, request, "urn:veeam:Job:2")
    assert row == {**SOURCE, "uid": "urn:veeam:Job:2", "name": "new", "folder_name": "f", "repository_uid": REPO}
    row["definition"]["storage"]["quantity"] = 30
    assert SOURCE["definition"]["storage"]["quantity"] == 7  # a copy, not shared
    replica = {**SOURCE, "job_type": "Replica", "repository_uid": None}
    described = JobCloneRequest(source_uid="s", job_type=JobType.REPLICA, name="r", vm_suffix="_dr", description="")
    row = cloned_row(replica, described, "urn:veeam:Job:3")
    assert row["definition"][VM_SUFFIX] == "_dr" and row["description"] == "" and VM_SUFFIX not in SOURCE["definition"]


FILE = {"folder_name": "f", "repository_uid": REPO}
KINDS = [
    ("BackupJobCloneInfo", JobType.BACKUP, {"FolderName": "f", "RepositoryUid": REPO}, FILE),
    ("ReplicaJobCloneInfo", JobType.REPLICA, {"VmSuffix": "_r"}, {"vm_suffix": "_r"}),
    ("BackupCopyJobCloneInfo", JobType.BACKUP_COPY, {"JobFileName": "f", "RepositoryUid": REPO}, FILE),
    (
        "ImmediateBackupCopyJobCloneInfo",
        JobType.IMMEDIATE_BACKUP_COPY,
        {"JobFileName": "f", "RepositoryUid": REPO},
        FILE,
    ),
]


@pytest.mark.parametrize(("info", "kind", "fields", "expected"), KINDS)
def test_veeams_spec_becomes_the_request(
    info: str, kind: JobType, fields: dict[str, str], expected: dict[str, str]
) -> None:
    spec = validate(JobCloneSpec, {info: {"JobName": "n", **fields}})
    request = spec.request("urn:veeam:Job:1").check()
    assert request.job_type is kind and request.name == "n" and request.description is None
    assert {k: getattr(request, k) for k in expected} == expected


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"BackupJobCloneInfo": None},
        {"ReplicaJobCloneInfo": {"JobName": "n", "VmSuffix": "s"}, "BackupJobCloneInfo": {"JobName": "n"}},
        {"ReplicaJobCloneInfo": {"JobName": "N" * 51, "VmSuffix": "s"}},
        {"ReplicaJobCloneInfo": {"JobName": "n", "VmSuffix": "s", "FolderName": "f"}},
        {"BackupJobCloneInfo": {"JobName": "n", "FolderName": "f", "RepositoryUid": "urn:veeam:Repository:x"}},
        {"ReplicaJobCloneInfo": {"jobName": "n", "VmSuffix": "s"}},
    ],
    ids=["none", "null", "two", "51", "extra", "bad uid", "camel"],
)
def test_refused_specs(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        validate(JobCloneSpec, body)
