"""The Storage Service of type S3: a bucket both environments reach (on AWS, or on any S3-compatible
server named by an s3:// URL), opened by the same blob store code as envclone's own object store,
checked by really writing there. Its access key is kept only sealed (auth.sealing), bound to the
endpoint it was given for. Nothing here returns or logs the key: a refusal repeats the blob store's
message, which names the bucket and the S3 error code only."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

from envclone.auth.sealing import SealBroken, Sealer
from envclone.blobs.s3_location import S3Credentials, S3Location, parse_s3_url
from envclone.blobs.store import open_blob_store
from envclone.errors import EnvcloneError, InvalidRequest

S3 = "S3"
ACCESS_ID, SECRET_KEY = "awsAccessId", "awsSecretKey"
SEALED = "sealedCredentials"  # in the kept configuration: {"endpoint", "sealed"}; never shown
PROBE_PREFIX = "probes/"  # a validation writes and removes one object below it
# A validation answers a person: a few tries, not the eight a backup deserves.
VALIDATION_ATTEMPTS = "3"
_AWS = "aws"  # the endpoint a key is bound to when the location names none (AWS itself)


class StorageInvalid(InvalidRequest, code="storage_invalid", status=400):
    """The storage service configuration is not valid."""


def bucket_url(location: str, region: str) -> str:
    """The s3:// URL of ``location``: a bucket name, ``bucket/prefix``, or a whole
    ``s3://bucket/prefix?endpoint=...&region=...`` URL (an S3-compatible server's); ``region``
    (s3Region) is added unless the URL names one, and must agree with it if it does."""
    text = location.strip()
    url = text if text.startswith("s3://") else f"s3://{text}"
    parsed = _parsed(url)
    if region:
        if parsed.region and parsed.region != region:
            raise StorageInvalid(
                f"sharedFileStore.s3Region {region!r} differs from the region in sharedFileStore.location"
            )
        if not parsed.region:
            url += ("&" if "?" in url else "?") + urlencode({"region": region})
            _parsed(url)
    return url


def _parsed(url: str) -> S3Location:
    try:
        return parse_s3_url(url)
    except ValueError as exc:  # the message never repeats the URL's authority
        raise StorageInvalid(f"sharedFileStore.location for S3: {exc}") from None


def endpoint_of(url: str) -> str:
    return str(_parsed(url).endpoint or _AWS)


def _context(endpoint: str) -> str:
    # The endpoint is part of the seal's context: a key moved in the database onto another
    # endpoint does not open there, so it is never sent to a server it was not given for.
    return f"storage_service:{endpoint}"


def seal(sealer: Sealer, credentials: S3Credentials, endpoint: str) -> dict[str, str]:
    pair = {ACCESS_ID: credentials.access_key_id, SECRET_KEY: credentials.secret_access_key}
    sealed = sealer.seal_json(pair, context=_context(endpoint))
    return {"endpoint": endpoint, "sealed": base64.b64encode(sealed).decode("ascii")}


def unseal(sealer: Sealer, kept: object, endpoint: str) -> S3Credentials | None:
    """The key kept for ``endpoint``; None when none is kept or it was given for another endpoint."""
    if not isinstance(kept, dict) or kept.get("endpoint") != endpoint or not isinstance(kept.get("sealed"), str):
        return None
    try:
        pair = sealer.unseal_json(base64.b64decode(kept["sealed"]), context=_context(endpoint))
    except (SealBroken, ValueError):
        raise StorageInvalid(
            "the storage service's kept secret key does not open with this server's secret key (was it "
            "changed?): give awsAccessId and awsSecretKey again"
        ) from None
    return S3Credentials(str(pair[ACCESS_ID]), str(pair[SECRET_KEY]))


def given_credentials(config: dict[str, Any], kept: S3Credentials | None) -> S3Credentials | None:
    """The key a request gives, completed by the kept one (the SDK never sees the secret, so it
    cannot send it back); None when neither gives one (the server's own AWS credentials apply)."""
    for name in (ACCESS_ID, SECRET_KEY):
        value = config.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 1024):
            raise StorageInvalid(f"sharedFileStore.{name} must be a string of at most 1024 characters")
    access = config.get(ACCESS_ID) or (kept.access_key_id if kept else "")
    secret = config.get(SECRET_KEY) or (kept.secret_access_key if kept else "")
    if bool(access) != bool(secret):
        raise StorageInvalid("sharedFileStore.awsAccessId and awsSecretKey go together: give both")
    return S3Credentials(access, secret) if access else None


def probe(url: str, credentials: S3Credentials | None, *, given: bool) -> None:
    """Open the bucket (a HEAD of it), write one small object and remove it: what a duplication
    will do there. Any refusal becomes StorageInvalid with the object store's reason."""
    joined = "&" if "?" in url else "?"
    checked = url if "max_attempts=" in url else f"{url}{joined}max_attempts={VALIDATION_ATTEMPTS}"
    try:
        store = open_blob_store(checked, credentials=credentials)
        key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        store.put(key, b"envclone storage service check\n")
        store.delete(key)
    except ValueError as exc:
        raise StorageInvalid(f"sharedFileStore.location for S3: {exc}") from None
    except EnvcloneError as exc:
        whose = "" if given else " (no awsAccessId and awsSecretKey given: the server's own AWS credentials were used)"
        raise StorageInvalid(f"the storage service bucket cannot be used: {exc.message}{whose}") from None
