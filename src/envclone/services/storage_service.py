"""The storage service (Strategy's Library "sharedFileStore"): the folder through which a
cross-environment duplication moves its package. Kept in server_state, not content: an
environment clone must not point the copy at the original's folder. Type ``file_system`` only;
secrets (awsSecretKey...) are never stored nor returned."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest
from envclone.services.context import ServiceContext
from envclone.store import server_state

STATE_KEY = "storage_service"
FILE_SYSTEM, UNSET = "file_system", "unset"
OBJECT_STORES = ("s3", "azure", "gcs")
FIELDS = ("type", "alias", "location", "s3Region")  # what is kept: never a secret


class StorageInvalid(InvalidRequest, code="storage_invalid", status=400):
    """The storage service configuration is not valid."""


class StorageUnsupported(InvalidRequest, code="storage_unsupported", status=400):
    """This type of storage service is not supported yet: use file_system (S3 comes with the
    object store issue)."""


def _stored(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.db.read() as conn:
        value = server_state.get(conn, STATE_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    kind = str(config.get("type") or UNSET)
    return {
        "type": kind,
        "alias": str(config.get("alias") or ""),
        "location": str(config.get("location") or ""),
        "s3Region": str(config.get("s3Region") or ""),
        "configured": kind == FILE_SYSTEM and bool(config.get("location")),
    }


def get_config(ctx: ServiceContext, who: Principal) -> dict[str, Any]:
    who.require(Permission.READ_CONTENT)
    return _shown(_stored(ctx))


def folder(ctx: ServiceContext) -> str | None:
    """The configured folder, for the duplication service; None when none is configured."""
    shown = _shown(_stored(ctx))
    return shown["location"] if shown["configured"] else None


def _check(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as kept (known fields only), or StorageInvalid/StorageUnsupported."""
    kind = str(config.get("type") or UNSET).strip()
    if kind.lower() in OBJECT_STORES:
        raise StorageUnsupported(
            f"storage service type {kind} is not supported yet: use file_system (S3 comes with the object store issue)"
        )
    if kind.lower() == UNSET:
        return {"type": UNSET}
    if kind.lower() != FILE_SYSTEM:
        raise StorageInvalid(f"unknown storage service type {kind!r}: use file_system or unset")
    kept = {k: config[k] for k in FIELDS if config.get(k) is not None}
    for key, value in kept.items():
        if not isinstance(value, str) or len(value) > 2000:
            raise StorageInvalid(f"sharedFileStore.{key} must be a string of at most 2000 characters")
    location = str(kept.get("location") or "")
    if not location:
        raise StorageInvalid("sharedFileStore.location is required for file_system: a folder both environments reach")
    path = Path(location)
    if not path.is_absolute():
        raise StorageInvalid(f"sharedFileStore.location {location!r} must be an absolute path")
    if not path.is_dir():
        raise StorageInvalid(f"sharedFileStore.location {location!r} is not an existing folder on this server")
    if not _writable(path):
        raise StorageInvalid(f"sharedFileStore.location {location!r} is not writable by this server")
    return {**kept, "type": FILE_SYSTEM, "location": str(path)}


def _writable(path: Path) -> bool:
    if not os.access(path, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def validate(ctx: ServiceContext, who: Principal, shared_file_store: dict[str, Any]) -> None:
    who.require(Permission.ADMINISTER_SETTINGS)
    _check(shared_file_store)


def update(ctx: ServiceContext, who: Principal, shared_file_store: dict[str, Any]) -> dict[str, Any]:
    """PATCH: the given fields over the current ones, checked whole, then kept."""
    who.require(Permission.ADMINISTER_SETTINGS)
    merged = {**_stored(ctx), **{k: v for k, v in shared_file_store.items() if k in FIELDS}}
    if shared_file_store.get("type") is not None and str(shared_file_store["type"]).lower() == UNSET:
        merged = {"type": UNSET}
    kept = _check(merged)
    with ctx.db.begin() as conn:
        server_state.put(conn, STATE_KEY, kept)
    return get_config(ctx, who)
