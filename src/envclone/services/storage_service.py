"""The storage service (Strategy's Library "sharedFileStore"): the folder or S3 bucket through which
a cross-environment duplication moves its package. Kept in server_state, not content: an
environment clone must not point the copy at the original's place. Types ``file_system`` and
``S3``; an S3 secret key is kept only sealed (services._bucket_storage) and never returned; the
other object stores are refused."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envclone.blobs.store import BlobStore
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest
from envclone.operations.duplicate import storage
from envclone.services import _bucket_storage as bucket
from envclone.services._bucket_storage import S3, SEALED, StorageInvalid
from envclone.services.context import ServiceContext
from envclone.store import server_state

__all__ = ["STATE_KEY", "Place", "StorageInvalid", "StorageUnsupported", "get_config", "update", "validate"]

STATE_KEY = "storage_service"
FILE_SYSTEM, UNSET = "file_system", "unset"
UNSUPPORTED = ("azure", "gcs")
FIELDS = ("type", "alias", "location", "s3Region")  # what is kept in clear: never a secret
SECRET_FIELDS = (bucket.ACCESS_ID, bucket.SECRET_KEY)


class StorageUnsupported(InvalidRequest, code="storage_unsupported", status=400):
    """This type of storage service is not supported: use file_system or S3."""


@dataclass(frozen=True)
class Place:
    """Where duplications go: a folder or an s3:// URL (never a key), and the access key that
    opens a bucket, as operation secrets (sealed with the operation, never in its parameters)."""

    location: str
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


def _stored(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.db.read() as conn:
        value = server_state.get(conn, STATE_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _kind(config: dict[str, Any]) -> str:
    kind = str(config.get("type") or UNSET).strip()
    return {FILE_SYSTEM: FILE_SYSTEM, UNSET: UNSET, "s3": S3}.get(kind.lower(), kind)


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    kind = _kind(config)
    return {
        "type": kind,
        "alias": str(config.get("alias") or ""),
        "location": str(config.get("location") or ""),
        "s3Region": str(config.get("s3Region") or ""),
        "configured": kind in (FILE_SYSTEM, S3) and bool(config.get("location")),
    }


def get_config(ctx: ServiceContext, who: Principal) -> dict[str, Any]:
    who.require(Permission.READ_CONTENT)
    return _shown(_stored(ctx))


def folder(ctx: ServiceContext) -> str | None:
    """The configured folder (file_system); None otherwise."""
    stored = _stored(ctx)
    return str(stored["location"]) if _kind(stored) == FILE_SYSTEM and stored.get("location") else None


def place(ctx: ServiceContext) -> Place | None:
    """The configured place, for the duplication service; None when none is configured."""
    stored = _stored(ctx)
    if not _shown(stored)["configured"]:
        return None
    if _kind(stored) == FILE_SYSTEM:
        return Place(str(stored["location"]))
    url = bucket.bucket_url(str(stored["location"]), str(stored.get("s3Region") or ""))
    credentials = bucket.unseal(ctx.engine.sealer, stored.get(SEALED), bucket.endpoint_of(url))
    if credentials is None:
        return Place(url)
    return Place(url, {storage.ACCESS_ID: credentials.access_key_id, storage.SECRET_KEY: credentials.secret_access_key})


def open_place(ctx: ServiceContext, location: str) -> BlobStore:
    """A place a duplication was started with (to cancel or remove its package): a bucket opens
    with the key kept now if the storage service still names it, else the server's own."""
    current = place(ctx) if location.startswith("s3://") else None
    found = storage.credentials_of(current.secrets) if current and current.location == location else None
    return storage.open_storage(location, found or ctx.settings.blob_credentials())


def _check(ctx: ServiceContext, config: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The configuration as kept (known fields only, an S3 key sealed), or StorageInvalid or
    StorageUnsupported. An S3 configuration without a key takes the one kept for the same endpoint."""
    kind = _kind(config)
    if kind.lower() in UNSUPPORTED:
        raise StorageUnsupported(f"storage service type {kind} is not supported: use file_system or S3")
    if kind == UNSET:
        return {"type": UNSET}
    if kind not in (FILE_SYSTEM, S3):
        raise StorageInvalid(f"unknown storage service type {kind!r}: use file_system, S3 or unset")
    kept = {k: config[k] for k in FIELDS if config.get(k) is not None}
    for key, value in kept.items():
        if not isinstance(value, str) or len(value) > 2000:
            raise StorageInvalid(f"sharedFileStore.{key} must be a string of at most 2000 characters")
    if kind == S3:
        return _check_bucket(ctx, kept, config, stored)
    return {**kept, "type": FILE_SYSTEM, "location": _check_folder(str(kept.get("location") or ""))}


def _check_bucket(
    ctx: ServiceContext, kept: dict[str, Any], config: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Any]:
    location = str(kept.get("location") or "").strip()
    if not location:
        raise StorageInvalid(
            "sharedFileStore.location is required for S3: the bucket (bucket or bucket/prefix; "
            "s3://bucket/prefix?endpoint=http://host:port for an S3-compatible server)"
        )
    url = bucket.bucket_url(location, str(kept.get("s3Region") or ""))
    endpoint = bucket.endpoint_of(url)
    before = bucket.unseal(ctx.engine.sealer, stored.get(SEALED), endpoint) if _kind(stored) == S3 else None
    credentials = bucket.given_credentials(config, before)
    bucket.probe(url, credentials or ctx.settings.blob_credentials(), given=credentials is not None)
    record: dict[str, Any] = {**kept, "type": S3, "location": location}
    if credentials is not None:
        record[SEALED] = bucket.seal(ctx.engine.sealer, credentials, endpoint)
    return record


def _check_folder(location: str) -> str:
    if not location:
        raise StorageInvalid("sharedFileStore.location is required for file_system: a folder both environments reach")
    path = Path(location)
    if not path.is_absolute():
        raise StorageInvalid(f"sharedFileStore.location {location!r} must be an absolute path")
    if not path.is_dir():
        raise StorageInvalid(f"sharedFileStore.location {location!r} is not an existing folder on this server")
    if not _writable(path):
        raise StorageInvalid(f"sharedFileStore.location {location!r} is not writable by this server")
    return str(path)


def _writable(path: Path) -> bool:
    if not os.access(path, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def validate(ctx: ServiceContext, who: Principal, shared_file_store: dict[str, Any]) -> None:
    """The configuration as given (an S3 one without its key: with the key kept for its endpoint)."""
    who.require(Permission.ADMINISTER_SETTINGS)
    _check(ctx, shared_file_store, _stored(ctx))


def update(ctx: ServiceContext, who: Principal, shared_file_store: dict[str, Any]) -> dict[str, Any]:
    """PATCH: the given fields over the current ones (over none when the type changes), checked
    whole, then kept."""
    who.require(Permission.ADMINISTER_SETTINGS)
    stored = _stored(ctx)
    given = {k: v for k, v in shared_file_store.items() if k in FIELDS + SECRET_FIELDS and v is not None}
    same_type = "type" not in given or _kind(given) == _kind(stored)
    merged = {**({k: v for k, v in stored.items() if k in FIELDS} if same_type else {}), **given}
    kept = _check(ctx, merged, stored)
    with ctx.db.begin() as conn:
        server_state.put(conn, STATE_KEY, kept)
    return get_config(ctx, who)
