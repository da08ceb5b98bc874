"""Where an S3 blob store lives, parsed from its URL
(``s3://bucket/prefix?endpoint=...&region=...``). Pure parsing without the S3 client, so the
settings can refuse a bad URL at start; credentials never belong in the URL and are refused."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from envclone.blobs._keys import check_key

# S3's own bucket rule (3-63 of lowercase letters, digits, dots and hyphens); MinIO and Ceph keep it.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RETRY_MODES = ("standard", "adaptive")
_ADDRESSING = ("path", "virtual", "auto")
OPTIONS = ("endpoint", "region", "profile", "max_attempts", "retry_mode", "addressing_style")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""  # "" or a key prefix ending in "/": the store's keys live below it
    endpoint: str | None = None  # None: AWS itself; else any S3-compatible server (MinIO, Ceph...)
    region: str | None = None
    profile: str | None = None  # a named profile of the AWS config and credentials files
    max_attempts: int = 8  # tries per request, the first included (botocore's retry config)
    retry_mode: str = "standard"
    addressing_style: str | None = None  # None: "path" with an endpoint (what MinIO wants), else AWS's choice

    @property
    def url(self) -> str:
        """The location as a URL without options, for messages and logs (it holds no secret)."""
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class S3Credentials:
    """An access key given to envclone itself (its settings), rather than found by boto3 in the
    usual places. Shown by no repr."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)


def parse_s3_url(url: str) -> S3Location:
    """The location an ``s3://`` URL names; ``ValueError`` saying what is wrong. A message never
    repeats the URL's authority, where a misplaced secret would sit."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ValueError("an object store URL starts with s3://")
    if "@" in parts.netloc:
        raise ValueError(
            "credentials do not belong in the blob store URL: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or a profile of the AWS credentials file (?profile=NAME)"
        )
    if parts.fragment:
        raise ValueError("an s3:// URL has no #fragment")
    if not _BUCKET.match(parts.netloc):
        raise ValueError("s3://BUCKET/PREFIX needs a bucket name of 3-63 lowercase letters, digits, dots or hyphens")
    prefix = parts.path.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except ValueError:
            raise ValueError("the prefix in s3://BUCKET/PREFIX must be /-separated segments of A-Za-z0-9._-") from None
        prefix += "/"
    options = _options(parts.query)
    return S3Location(
        bucket=parts.netloc,
        prefix=prefix,
        endpoint=_endpoint(options.get("endpoint")),
        region=options.get("region") or None,
        profile=options.get("profile") or None,
        max_attempts=_attempts(options.get("max_attempts", "8")),
        retry_mode=_choice(options, "retry_mode", _RETRY_MODES) or "standard",
        addressing_style=_choice(options, "addressing_style", _ADDRESSING),
    )


def _options(query: str) -> dict[str, str]:
    found = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(found) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown s3:// URL option {unknown[0]!r} (known: {', '.join(OPTIONS)})")
    repeated = [name for name, values in found.items() if len(values) > 1]
    if repeated:
        raise ValueError(f"the s3:// URL option {repeated[0]!r} is given twice")
    return {name: values[0] for name, values in found.items()}


def _endpoint(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise ValueError("the endpoint option must be a plain http(s)://host[:port] URL, without credentials")
    return value.rstrip("/")


def _attempts(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise ValueError("the max_attempts option must be a whole number from 1 to 20")
    return int(value)


def _choice(options: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = options.get(name)
    if value is not None and value not in allowed:
        raise ValueError(f"the {name} option must be one of {', '.join(allowed)}")
    return value
