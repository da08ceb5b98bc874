"""The environment as a whole: its identity (name, service type, version), its settings and
application properties, and its content digest."""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from blake3 import blake3

from envclone import __version__
from envclone.content.digest import component_digest, environment_digest, store_cached
from envclone.domain.components import Component
from envclone.domain.duplication import USER_FENCING_KEY
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest, NotFound, PayloadTooLarge
from envclone.services.context import ServiceContext
from envclone.services.files import blob_key
from envclone.store import files as stored_files
from envclone.store import server_state, tables
from envclone.store.database import generation
from envclone.store.repository import TableRepository

log = logging.getLogger("envclone.environment")
_settings = TableRepository(tables.settings, label="setting")
IMAGES = ("logo_image", "background_image")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def defaults(ctx: ServiceContext) -> dict[str, Any]:
    return {
        "maintenance_start_time": ctx.settings.maintenance_start_time,
        "maintenance_time_zone": ctx.settings.maintenance_time_zone,
        "email_notifications": True,
        "redwood_experience": True,
        "theme": "Redwood",
        "business_process_name": "",
        # Strategy's Library setting: project duplication refuses while it is on (seed 002).
        USER_FENCING_KEY: False,
        "logo_image": None,
        "background_image": None,
    }


def instance_id(ctx: ServiceContext) -> str:
    with ctx.db.read() as conn:
        return str(server_state.get(conn, server_state.INSTANCE_ID))


def identity(ctx: ServiceContext) -> dict[str, Any]:
    s = ctx.settings
    return {
        "instance_id": instance_id(ctx),
        "name": s.environment_name,
        "service_type": s.service_type.value,
        "version": s.version,
        "locale": s.locale,
        "software": f"envclone {__version__}",
    }


def read_settings(conn: sa.Connection, ctx: ServiceContext) -> dict[str, Any]:
    stored = {row["key"]: row["value"] for row in _settings.stream(conn)}
    return {**defaults(ctx), **stored}


def get_settings(ctx: ServiceContext, who: Principal) -> dict[str, Any]:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        return {**identity(ctx), **read_settings(conn, ctx)}


def _write(conn: sa.Connection, key: str, value: Any) -> None:
    if _settings.find(conn, {"key": key}) is None:
        _settings.insert(conn, {"key": key, "value": value})
    else:
        _settings.update(conn, {"key": key}, {"value": value})


def update_settings(ctx: ServiceContext, who: Principal, changes: dict[str, Any]) -> dict[str, Any]:
    who.require(Permission.ADMINISTER_SETTINGS)
    unknown = set(changes) - (set(defaults(ctx)) - set(IMAGES))
    if unknown:
        raise InvalidRequest(f"unknown or read-only setting(s): {', '.join(sorted(unknown))}")
    start = changes.get("maintenance_start_time")
    if start is not None and not _HHMM.match(str(start)):
        raise InvalidRequest("maintenance_start_time must be HH:MM")
    zone = changes.get("maintenance_time_zone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidRequest(f"maintenance_time_zone: unknown IANA time zone {zone!r}") from None
    fencing = changes.get(USER_FENCING_KEY)
    if fencing is not None and not isinstance(fencing, bool):
        raise InvalidRequest(f"{USER_FENCING_KEY} must be true or false")
    changes = {k: v for k, v in changes.items() if v is not None}
    with ctx.db.begin() as conn:
        for key, value in changes.items():
            _write(conn, key, value)
    return get_settings(ctx, who)


def _image_key(kind: str) -> str:
    key = f"{kind}_image"
    if key not in IMAGES:
        raise NotFound(f"image {kind!r} not found: use logo or background")
    return key


def may_put_image(who: Principal) -> None:
    """Whether ``who`` may change an image, decided before the route reads the image into memory."""
    who.require(Permission.ADMINISTER_SETTINGS)


def put_image(ctx: ServiceContext, who: Principal, kind: str, data: bytes, content_type: str) -> dict[str, Any]:
    who.require(Permission.ADMINISTER_SETTINGS)
    key = _image_key(kind)
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"images are limited to {MAX_IMAGE_BYTES} bytes")
    digest = blake3(data).hexdigest()
    value = {"hash": digest, "size": len(data), "content_type": content_type}
    with ctx.blob_refs:
        ctx.blobs.put(blob_key(digest), data)
        with ctx.db.begin() as conn:
            old = read_settings(conn, ctx).get(key)
            _write(conn, key, value)
            orphan = (
                isinstance(old, dict) and old["hash"] != digest and not stored_files.hash_referenced(conn, old["hash"])
            )
        if orphan:
            assert isinstance(old, dict)
            ctx.blobs.delete(blob_key(old["hash"]))
    return value


def get_image(ctx: ServiceContext, who: Principal, kind: str) -> tuple[dict[str, Any], bytes]:
    who.require(Permission.READ_CONTENT)
    key = _image_key(kind)
    with ctx.db.read() as conn:
        value = read_settings(conn, ctx).get(key)
    if not value:
        raise NotFound(f"no {kind} image is set")
    return value, ctx.blobs.get(blob_key(value["hash"]))


def digest(ctx: ServiceContext, who: Principal) -> dict[str, Any]:
    who.require(Permission.READ_CONTENT)
    components: dict[str, str] = {}
    fresh: list[tuple[Component, str, int]] = []
    with ctx.db.read() as conn:
        for component in Component:
            at = generation(conn, component)
            components[component.value] = component_digest(conn, component)
            fresh.append((component, components[component.value], at))
    try:
        # Best effort: a cache that an apply or restore is rewriting right now is not worth a wait
        # (or, on PostgreSQL, a deadlock with its bumps).
        with ctx.db.begin_nowait() as conn:
            for component, value, at in sorted(fresh):
                store_cached(conn, component, value, at)
    except sa.exc.OperationalError:
        log.debug("digest cache not stored: the generations are being written")
    return {"environment": environment_digest(components), "components": components}
