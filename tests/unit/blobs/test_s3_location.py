"""The object store URL: what it names, and the mistakes refused with a reason that never repeats
a secret put where it does not belong."""

from __future__ import annotations

import pytest

from envclone.blobs import open_blob_store
from envclone.blobs.s3_location import S3Location, parse_s3_url


def test_bucket_prefix_and_options() -> None:
    url = "s3://envclone-prod/backups/eu?endpoint=http://minio.internal:9000/&region=eu-west-3&max_attempts=5"
    assert parse_s3_url(url) == S3Location(
        bucket="envclone-prod",
        prefix="backups/eu/",
        endpoint="http://minio.internal:9000",
        region="eu-west-3",
        max_attempts=5,
    )


def test_defaults_are_aws_with_the_whole_bucket() -> None:
    location = parse_s3_url("s3://envclone-prod")
    assert (location.prefix, location.endpoint, location.region, location.profile) == ("", None, None, None)
    assert (location.max_attempts, location.retry_mode, location.addressing_style) == (8, "standard", None)
    assert parse_s3_url("s3://envclone-prod/").prefix == ""
    assert parse_s3_url("s3://envclone-prod/p/?retry_mode=adaptive&profile=ops&addressing_style=virtual") == S3Location(
        bucket="envclone-prod", prefix="p/", profile="ops", retry_mode="adaptive", addressing_style="virtual"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///var/blobs", "starts with s3://"),
        ("s3://", "bucket name"),
        ("s3://ab/x", "bucket name"),
        ("s3://Upper_Case/x", "bucket name"),
        ("s3://bucket/a b", "prefix"),
        ("s3://bucket/a/../b", "prefix"),
        ("s3://bucket/x?colour=blue", "unknown s3:// URL option 'colour'"),
        ("s3://bucket/x?region=a&region=b", "given twice"),
        ("s3://bucket/x?endpoint=ftp://host", "endpoint"),
        ("s3://bucket/x?endpoint=minio:9000", "endpoint"),
        ("s3://bucket/x?max_attempts=0", "max_attempts"),
        ("s3://bucket/x?max_attempts=many", "max_attempts"),
        ("s3://bucket/x?retry_mode=legacy", "retry_mode"),
        ("s3://bucket/x#frag", "fragment"),
    ],
)
def test_mistakes_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("?", r"\?")):
        parse_s3_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIAKEY:sup3r-s3cret@bucket/x",
        "s3://bucket/x?endpoint=http://AKIAKEY:sup3r-s3cret@minio:9000",
    ],
)
def test_credentials_in_the_url_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(ValueError, match="credentials") as caught:
        parse_s3_url(url)
    assert "sup3r-s3cret" not in str(caught.value) and "AKIAKEY" not in str(caught.value)
    with pytest.raises(ValueError) as caught:
        open_blob_store(url)
    assert "sup3r-s3cret" not in str(caught.value)


def test_an_unknown_scheme_is_refused_without_repeating_the_url() -> None:
    with pytest.raises(ValueError, match="file:// or s3://") as caught:
        open_blob_store("gs://user:sup3r-s3cret@bucket")
    assert "sup3r-s3cret" not in str(caught.value)
