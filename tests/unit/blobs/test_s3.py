"""The object store blob store beyond the shared contract (which ``tests/contract`` runs on it):
multipart uploads, throttling and cut reads survived, missing objects and buckets, isolation by
bucket and prefix, and credentials that never show. All over real HTTP to an S3 API server."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import pytest

from envclone.archive._age import blob_age
from envclone.blobs import open_blob_store
from envclone.blobs.s3 import MIN_PART_SIZE, ObjectStoreError, S3BlobStore
from envclone.errors import NotFound
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

from ._faulty_proxy import FaultyProxy

MiB = 1024 * 1024


def payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def raw_keys(s3: S3Server, prefix: str) -> list[str]:
    """Every object under ``prefix``, staging objects included, as the bucket holds them."""
    pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def open_uploads(s3: S3Server, prefix: str) -> list[str]:
    uploads = s3.client().list_multipart_uploads(Bucket=s3.bucket, Prefix=prefix).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


@pytest.mark.parametrize("copy_threshold", [1024 * MiB, MIN_PART_SIZE], ids=["copy-object", "upload-part-copy"])
def test_a_large_blob_streams_in_parts_and_appears_only_on_commit(s3_server: S3Server, copy_threshold: int) -> None:
    store = s3_server.store(copy_threshold=copy_threshold)
    data = payload(2 * MIN_PART_SIZE + 123_457)
    writer = store.writer()
    for start in range(0, len(data), MiB):
        writer.write(data[start : start + MiB])
    # Two whole parts have left already (memory holds less than one); nothing is visible yet.
    (staging,) = open_uploads(s3_server, store.prefix)
    parts = s3_server.client().list_parts(Bucket=s3_server.bucket, Key=staging, UploadId=_upload_id(s3_server, staging))
    assert [p["Size"] for p in parts["Parts"]] == [MIN_PART_SIZE, MIN_PART_SIZE]
    assert list(store.list("")) == [] and not store.exists("files/big")
    writer.commit("files/big")
    assert store.get("files/big") == data
    assert store.size("files/big") == len(data)
    assert b"".join(store.read("files/big", chunk_size=MiB)) == data
    assert list(store.list("")) == ["files/big"]
    # No staging object and no open upload are left behind.
    assert raw_keys(s3_server, store.prefix) == [store.prefix + "files/big"]
    assert open_uploads(s3_server, store.prefix) == []


def _upload_id(s3: S3Server, key: str) -> str:
    uploads = s3.client().list_multipart_uploads(Bucket=s3.bucket, Prefix=key)["Uploads"]
    return uploads[0]["UploadId"]


def test_an_aborted_large_blob_leaves_no_upload_and_no_object(s3_server: S3Server) -> None:
    store = s3_server.store()
    writer = store.writer()
    writer.write(payload(MIN_PART_SIZE + 10))
    assert len(open_uploads(s3_server, store.prefix)) == 1
    writer.abort()
    assert open_uploads(s3_server, store.prefix) == []
    assert raw_keys(s3_server, store.prefix) == []


def test_a_part_that_fails_is_cleaned_up_by_abort(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint, max_attempts=2)
    writer = store.writer()
    try:
        writer.write(payload(MIN_PART_SIZE))  # the first part goes through
        proxy.slow_down(2)
        with pytest.raises(ObjectStoreError, match="SlowDown"):
            writer.write(payload(MIN_PART_SIZE, seed=2))
    finally:
        writer.abort()
    assert open_uploads(s3_server, store.prefix) == []
    assert raw_keys(s3_server, store.prefix) == []


def test_a_small_blob_is_one_put(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint)
    assert proxy.requests == [f"HEAD /{s3_server.bucket}"]  # the bucket checked at open
    proxy.requests.clear()
    writer = store.writer()
    writer.write(b"small ")
    writer.write(b"blob")
    assert proxy.requests == []  # buffered until the key is known
    writer.commit("k")
    assert [r.split("?")[0] for r in proxy.requests] == [f"PUT /{s3_server.bucket}/{store.prefix}k"]
    assert store.get("k") == b"small blob"


def test_throttled_requests_are_retried_with_backoff(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint, max_attempts=4)
    proxy.slow_down(2)
    store.put("k", b"content")
    assert proxy.refused == 2
    proxy.slow_down(1)
    assert store.exists("k")  # a HEAD, whose 503 has no body to name SlowDown
    proxy.slow_down(1)
    assert store.get("k") == b"content"
    assert proxy.refused == 4


def test_a_dropped_connection_is_retried(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint, max_attempts=4)
    proxy.drop(2)
    store.put("k", b"content")
    proxy.drop(1)
    assert store.get("k") == b"content"
    assert proxy.dropped == 3


def test_throttling_beyond_the_attempts_fails_naming_it(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint, max_attempts=2)
    proxy.slow_down(5)
    started = time.monotonic()
    with pytest.raises(ObjectStoreError) as caught:
        store.put("k", b"content")
    assert proxy.refused == 2  # bounded: the attempts asked for, no more
    assert time.monotonic() - started < 10
    assert "SlowDown" in caught.value.message and "503" in caught.value.message
    assert caught.value.status == 503


def test_a_read_cut_short_resumes_where_it_stopped(s3_server: S3Server, proxy: FaultyProxy) -> None:
    store = s3_server.store(endpoint=proxy.endpoint)
    data = payload(3 * MiB)
    store.put("big", data)
    proxy.cut_next_get(after_bytes=MiB + 17)
    pieces = list(store.read("big", chunk_size=256 * 1024))
    assert proxy.cut == 1
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= 256 * 1024 for p in pieces)
    ranged = [r for r in proxy.requests if r.startswith("GET")]
    assert len(ranged) == 2  # the first GET, then one from where it was cut


def test_a_missing_object(s3_server: S3Server) -> None:
    store = s3_server.store()
    assert not store.exists("no/such")
    for call in (store.get, store.size, store.read, store.mtime):
        with pytest.raises(NotFound, match="no/such"):
            call("no/such")
    store.delete("no/such")
    assert blob_age(store, "no/such", time.time()) is None


def test_age_comes_from_last_modified(s3_server: S3Server) -> None:
    store = s3_server.store()
    before = time.time()
    store.put("dated", b"x")
    age = blob_age(store, "dated", before + 100)
    assert age is not None and 95 < age <= 100  # whole seconds, rounded towards young


def test_a_missing_bucket_stops_the_store_at_open(s3_server: S3Server) -> None:
    with pytest.raises(ObjectStoreError, match=r"no-such-bucket.*the bucket does not exist"):
        s3_server.store(bucket="no-such-bucket")


def test_a_bucket_gone_later_is_an_object_store_error(s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket(f"envclone-gone-{time.time_ns()}")
    store = s3_server.store(bucket=bucket)
    s3_server.client().delete_bucket(Bucket=bucket)
    with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
        store.put("k", b"x")
    with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
        list(store.list(""))


def test_stores_see_only_their_own_bucket_and_prefix(s3_server: S3Server) -> None:
    other_bucket = s3_server.create_bucket("envclone-tests-other")
    run = f"iso-{time.time_ns()}"
    a = s3_server.store(f"{run}/a/")
    a_b = s3_server.store(f"{run}/a-b/")
    elsewhere = s3_server.store(f"{run}/a/", bucket=other_bucket)
    a.put("k", b"in a")
    a_b.put("k", b"in a-b")
    elsewhere.put("k", b"in the other bucket")
    assert (a.get("k"), a_b.get("k"), elsewhere.get("k")) == (b"in a", b"in a-b", b"in the other bucket")
    a.delete("k")
    assert not a.exists("k") and a_b.exists("k") and elsewhere.exists("k")
    assert list(a.list("")) == [] and list(a_b.list("")) == ["k"]
    # One level up sees both below it, by their keys there.
    parent = s3_server.store(f"{run}/")
    assert sorted(parent.list("")) == ["a-b/k"]
    assert raw_keys(s3_server, f"{run}/") == [f"{run}/a-b/k"]


def test_open_blob_store_takes_credentials_from_the_environment(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    store = open_blob_store(f"s3://{s3_server.bucket}/env-{time.time_ns()}?endpoint={s3_server.endpoint}&region={REGION}")
    assert isinstance(store, S3BlobStore)
    store.put("a/b", b"via the environment")
    assert store.get("a/b") == b"via the environment"


def test_open_blob_store_takes_a_profile_of_the_credentials_file(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[envclone]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET_ACCESS_KEY}\n"
    )
    _no_aws_environment(monkeypatch)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    url = f"s3://{s3_server.bucket}/profile-{time.time_ns()}?endpoint={s3_server.endpoint}&region={REGION}"
    store = open_blob_store(url + "&profile=envclone")
    store.put("k", b"via a profile")
    assert store.get("k") == b"via a profile"
    with pytest.raises(ObjectStoreError, match="no credentials"):
        open_blob_store(url)  # the default profile has none


def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to ask on a test machine


def test_credentials_never_show_in_logs_reprs_or_errors(
    s3_server: S3Server, proxy: FaultyProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as ``envclone serve --log-level debug`` does
    shown: list[str] = []
    store = s3_server.store(endpoint=proxy.endpoint, max_attempts=2)
    shown += [repr(store), str(store), repr(store.location), repr(vars(store))]
    store.put("k", b"x")
    writer = store.writer()
    writer.write(payload(MIN_PART_SIZE + 1))
    writer.commit("big")
    assert b"".join(store.read("big")) and store.get("k") == b"x"
    proxy.slow_down(5)
    for failing in (lambda: store.put("k", b"y"), lambda: store.get("missing")):
        with pytest.raises((ObjectStoreError, NotFound)) as caught:
            failing()
        shown += [str(caught.value), repr(caught.value), str(caught.value.__cause__), str(caught.value.__context__)]
        proxy.slow_down(0)
    with pytest.raises(ObjectStoreError) as caught:
        s3_server.store(bucket="no-such-bucket")
    shown += [str(caught.value), repr(caught.value)]
    logged = [record.getMessage() for record in caplog.records]
    # The client's own debug log was captured (and had signed requests to redact).
    assert any(r.name.startswith("botocore") for r in caplog.records)
    assert any("Signature=[redacted]" in line for line in logged)
    for text in shown + logged:
        assert ACCESS_KEY_ID not in text
        assert SECRET_ACCESS_KEY not in text
