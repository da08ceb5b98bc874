"""Which operation runs each job kind, and what a replication job's definition must say about its
replica (a secret's name, never a password) and the name its replica must have."""

from __future__ import annotations

from typing import Any

import pytest

from envclone.domain import job_run
from envclone.domain.job_clone import JobType
from envclone.domain.replication import replica_name, replica_target
from envclone.errors import InvalidRequest

TARGET = {"url": "http://replica:8080", "user": "admin", "secret": "dr-site"}


def test_every_job_kind_has_a_run() -> None:
    assert {job_run.kind_of(t.value) for t in JobType} == job_run.KINDS
    assert job_run.kind_of("ImmediateBackupCopy") == job_run.kind_of("BackupCopy") == job_run.COPY_KIND
    with pytest.raises(InvalidRequest, match="Tape"):
        job_run.kind_of("Tape")


def test_a_replica_target_is_read_from_the_definition() -> None:
    target = replica_target({"replicaTarget": TARGET}, "dr")
    assert (target.url, target.user, target.secret) == ("http://replica:8080", "admin", "dr-site")


@pytest.mark.parametrize(
    ("definition", "words"),
    [
        ({}, "names no replica"),
        ({"replicaTarget": {**TARGET, "password": "s3cret"}}, "replicaTarget.password"),
        ({"replicaTarget": {k: v for k, v in TARGET.items() if k != "secret"}}, "replicaTarget.secret"),
        ({"replicaTarget": {**TARGET, "secret": "../etc/passwd"}}, "not usable"),
        ({"replicaTarget": {**TARGET, "secret": "a/b"}}, "one folder name"),
        ({"replicaTarget": {**TARGET, "secret": ".hidden"}}, "not usable"),
        ({"replicaTarget": "http://replica"}, "not valid"),
    ],
)
def test_a_replica_target_that_cannot_be_used(definition: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidRequest, match=words.replace(".", r"\.")) as caught:
        replica_target(definition, "dr")
    assert "s3cret" not in caught.value.message


def test_the_replica_is_named_with_the_suffix() -> None:
    assert replica_name("prod", {"vmSuffix": "_replica"}) == "prod_replica"
    assert replica_name("prod", {}) == "prod"
