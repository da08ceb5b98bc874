"""A repository on a bucket (real S3 API server on loopback): job folder names as key segments
(distinct names, distinct keys), restore points read back in order with foreign objects ignored,
a package file invisible until committed, numbered when its name is taken, gone when aborted."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from envclone.blobs._keys import check_key
from envclone.domain.restore_point import RestorePoint
from envclone.operations.repository import BucketRepository, job_key
from tests.s3_server import S3Server, shared_s3_server


@pytest.fixture(scope="module")
def s3() -> S3Server:
    return shared_s3_server()


def test_job_folder_names_become_distinct_key_segments() -> None:
    names = ["Tier 1", "Tier_201", "Tier_1", "Production", "DR.copy", "Sauvegarde é", "a-b"]
    keys = [job_key(name) for name in names]
    assert keys[:4] == ["Tier_201", "Tier_5f201", "Tier_5f1", "Production"]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert check_key(key) == key and "/" not in key


def point(second: int, archive: str) -> RestorePoint:
    created = dt.datetime(2026, 12, 2, 3, 0, second)
    return RestorePoint(archive_id=archive, backup_name=f"b{second}", created=created, job_uid="urn:veeam:Job:x")


def test_points_and_package_files_on_a_bucket(s3: S3Server) -> None:
    store = s3.store()
    repository = BucketRepository(store, "s3://test/")
    assert repository.points("Tier 1") == []
    repository.write_point("Tier 1", point(2, "b" * 12))
    repository.write_point("Tier 1", point(1, "a" * 12))
    store.put("Tier_201/notes.point.json", b"not a record")  # a user's object: left alone
    store.put("Tier_201/deeper/x.point.json", point(3, "c" * 12).model_dump_json().encode())
    assert [p.archive_id for p in repository.points("Tier 1")] == ["a" * 12, "b" * 12]
    assert repository.has_point("Tier 1", point(1, "a" * 12)) and repository.points("Tier 10") == []

    first = repository.package_file("Tier 1", "backup.zip", "op1")
    first.write(b"x" * 10)
    assert not store.exists("Tier_201/backup.zip")  # nothing visible before commit
    assert first.commit() == "backup.zip"
    second = repository.package_file("Tier 1", "backup.zip", "op2")
    second.write(b"y")
    assert second.commit() == "backup_1.zip" and store.get("Tier_201/backup.zip") == b"x" * 10
    dropped = repository.package_file("Tier 1", "gone.zip", "op3")
    dropped.write(b"z" * 100)
    dropped.abort()
    assert sorted(store.list("Tier_201/")) == sorted([
        "Tier_201/backup.zip", "Tier_201/backup_1.zip", "Tier_201/deeper/x.point.json",
        "Tier_201/notes.point.json", f"Tier_201/{point(1, 'a' * 12).file_name}",
        f"Tier_201/{point(2, 'b' * 12).file_name}",
    ])  # fmt: skip


def test_a_package_file_past_one_part_goes_up_in_parts(s3: S3Server) -> None:
    """Larger than the store's part (5 MiB here): a multipart upload, staged, published whole."""
    store = s3.store()
    repository = BucketRepository(store, "s3://test/")
    data = os.urandom(store.part_size + 1024 * 1024 + 7)
    file = repository.package_file("Nightly", "big.zip", "op")
    for start in range(0, len(data), 256 * 1024):
        file.write(data[start : start + 256 * 1024])
    assert list(store.list("Nightly/")) == []  # only the hidden staged upload exists yet
    assert file.commit() == "big.zip"
    assert store.get("Nightly/big.zip") == data
    raw = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=store.prefix).get("Contents", [])
    assert [o["Key"] for o in raw] == [f"{store.prefix}Nightly/big.zip"]  # the staged upload is gone
    uploads = s3.client().list_multipart_uploads(Bucket=s3.bucket, Prefix=store.prefix).get("Uploads", [])
    assert uploads == []
