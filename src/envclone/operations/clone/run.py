"""The source's side of a clone, step by step as EPM reports it: validate and pick the archive,
log in to the target, check its version and service type, send what it lacks and have it apply
the archive atomically ("recreate"), report each option, then prove equality by digests."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlalchemy as sa

from envclone.archive import Manifest, load_manifest
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.roles import Role
from envclone.domain.service import ServiceType
from envclone.engine import Recorder
from envclone.errors import Conflict, EnvcloneError, Forbidden, InvalidRequest, NotFound
from envclone.operations import catalog
from envclone.operations.archiving import ARTIFACT_SNAPSHOT_COMPONENTS, compose, write_archive
from envclone.operations.clone.errors import (
    ServiceTypeMismatch,
    TargetLoginFailed,
    TargetUnreachable,
    VersionMismatch,
    peer_failure,
)
from envclone.operations.clone.options import OPTIONS, CloneRequest, version_problem
from envclone.operations.clone.send import send_archive
from envclone.operations.clone.snapshot import find_stored, stored_archive
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError
from envclone.store import tables

KIND = "cloneEnvironment"
VALIDATE = "Validation before initiating clone"
LOGIN = "Login to target environment"
VERSION = "Validating target environment version"
SERVICE = "Validating target service environment"
RECREATE = "Performing recreate service on target environment"
MIGRATION = "Migration status"
STEPS = (VALIDATE, LOGIN, VERSION, SERVICE, RECREATE, *(o.step for o in OPTIONS), MIGRATION)
ARTIFACT_SNAPSHOT = "Artifact Snapshot"
POLL_SECONDS = 0.5


def _instance_id(conn: sa.Connection) -> str:
    t = tables.server_state
    return str(conn.execute(sa.select(t.c.value).where(t.c.key == "instance_id")).scalar())


def resolve_archive(ctx: OperationContext, request: CloneRequest) -> dict[str, Any]:
    """The catalogue row of the archive to clone from (EPM: the last maintenance snapshot unless
    a snapshot or the Environment Backup is named; a named snapshot is a backup of the catalogue
    or a stored snapshot, see snapshot.py)."""
    stored: dict[str, Any] | None = None
    with ctx.db.read() as conn:
        if request.environment_backup:
            row = catalog.latest(conn, catalog.ENVIRONMENT_BACKUP)
            what = "environment backup"
        elif request.snapshot_name in (None, "", ARTIFACT_SNAPSHOT):
            row = catalog.latest(conn, catalog.ARTIFACT_SNAPSHOT)
            what = "maintenance snapshot"
        else:
            row = catalog.find(conn, str(request.snapshot_name))
            what = f"snapshot {request.snapshot_name}"
            stored = None if row is not None else find_stored(conn, str(request.snapshot_name))
    if row is None and stored is not None:
        return stored_archive(ctx, stored)
    if row is None:
        if request.snapshot_name not in (None, "", ARTIFACT_SNAPSHOT) and not request.environment_backup:
            raise NotFound(f"{what} not found in the source environment")
        row = _fresh_snapshot(
            ctx, catalog.ENVIRONMENT_BACKUP if request.environment_backup else catalog.ARTIFACT_SNAPSHOT
        )
    return row


def _fresh_snapshot(ctx: OperationContext, kind: str) -> dict[str, Any]:
    """No daily maintenance has run yet: take the snapshot now rather than refuse."""
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    components = ARTIFACT_SNAPSHOT_COMPONENTS if kind == catalog.ARTIFACT_SNAPSHOT else tuple(Component)
    with ctx.db.snapshot() as conn:
        written = write_archive(ctx, conn, kind, components, created, lambda _n: None)
    with ctx.db.read() as conn:
        return catalog.get(conn, written.name)


def login_to_target(peer: PeerClient, request: CloneRequest, migrate_users: bool) -> dict[str, Any]:
    try:
        who = peer.whoami()
    except PeerError as exc:
        if exc.status == 0:
            raise TargetUnreachable(f"cannot reach the target environment at {peer.url}") from None
        if exc.status == 401:
            raise TargetLoginFailed(f"login to the target environment as {request.target_user} failed") from None
        raise TargetLoginFailed(f"login to the target environment failed: {exc.message}") from None
    roles = set(who.get("roles", []))
    if Role.SERVICE_ADMINISTRATOR.value not in roles:
        raise Forbidden(f"{request.target_user} is not a Service Administrator in the target environment")
    if migrate_users and Role.IDENTITY_DOMAIN_ADMINISTRATOR.value not in roles:
        raise Forbidden(f"migrateUsers needs {request.target_user} to be Identity Domain Administrator in the target")
    return peer.environment()


def _wait_for(peer: PeerClient, op_id: str, receipt: str, rec: Recorder) -> dict[str, Any]:
    while True:
        remote = peer.apply_status(op_id, receipt)
        if remote["status"] in ("succeeded", "failed", "cancelled"):
            return remote
        time.sleep(POLL_SECONDS)
        rec.flush()


def run_clone(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = CloneRequest(**op.params)
    password = op.secrets.get("target_password")
    if not password:
        raise EnvcloneError("the target password is no longer available (the server restarted); start the clone again")
    service_type = ctx.settings.service_type
    effective = request.effective(service_type)
    components = request.components(service_type)
    with rec.step(VALIDATE):
        row = resolve_archive(ctx, request)
        base = load_manifest(ctx.blobs, row["manifest_id"])
        rec.set_result(
            backupName=row["name"],
            backupCreatedTime=row["created"].isoformat(timespec="seconds"),
            options=effective,
            components=[c.value for c in components],
        )
    try:
        with PeerClient(request.target_url, request.target_user, password) as peer:
            _clone_to(ctx, peer, rec, request, row, base, effective, components, service_type)
    except PeerError as exc:  # anything the target said or failed to say past login
        raise peer_failure(exc, request.target_url) from None
    rec.set_result(cloneCompletedTime=dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


def _clone_to(
    ctx: OperationContext,
    peer: PeerClient,
    rec: Recorder,
    request: CloneRequest,
    row: dict[str, Any],
    base: Manifest,
    effective: dict[str, Any],
    components: list[Component],
    service_type: ServiceType,
) -> None:
    with rec.step(LOGIN):
        target = login_to_target(peer, request, bool(effective["migrateUsers"]))
        with ctx.db.read() as conn:
            if target.get("instance_id") == _instance_id(conn):
                raise InvalidRequest("the target environment is this environment: clone to another one")
    with rec.step(VERSION):
        problem = version_problem(
            ctx.settings.version,
            str(target.get("version")),
            environment_backup=row["kind"] == catalog.ENVIRONMENT_BACKUP,
        )
        if problem:
            raise VersionMismatch(problem)
    with rec.step(SERVICE):
        if target.get("service_type") != service_type.value:
            raise ServiceTypeMismatch(
                f"the target is a {target.get('service_type')} environment and the source a {service_type.value} "
                "environment: clone only between environments of the same service type"
            )
    with rec.step(RECREATE):
        digests = _send_and_apply(ctx, peer, rec, base, row, components, request)
    for option in OPTIONS:
        if effective[option.name]:
            with rec.step(option.step):
                pass  # applied atomically with the recreate step above
        else:
            reason = "does not apply to this service type" if effective[option.name] is None else "not selected"
            rec.not_applicable(option.step, reason)
    with rec.step(MIGRATION):
        _compare(rec.op.result.get("targetDigests", {}), digests, components, request.keep_settings(service_type))


def _send_and_apply(
    ctx: OperationContext,
    peer: PeerClient,
    rec: Recorder,
    base: Manifest,
    row: dict[str, Any],
    components: list[Component],
    request: CloneRequest,
) -> dict[str, str]:
    held = {c for c, _ in base.entries()}
    if all(c.value in held for c in components):
        manifest, digests = base, {c.value: row["digests"][c.value] for c in components if c.value in row["digests"]}
    else:  # records or files the snapshot does not hold come live from the source
        with ctx.db.snapshot() as conn:
            composed = compose(ctx, conn, base, row["digests"], components, lambda _n: None)
        manifest, digests = composed.manifest, composed.digests
    wanted = {c.value for c in components}
    rec.plan(bytes_total=sum(e.size for c, e in manifest.entries()))
    stats = send_archive(ctx.blobs, peer, manifest, lambda n: rec.advance(nbytes=n), rec.check_cancelled)
    rec.set_result(
        chunks=stats.chunks, chunksSent=stats.chunks_sent, bytesSent=stats.bytes_sent, bytesTotal=stats.bytes_total
    )
    try:
        remote = peer.apply(
            {
                "archive_id": manifest.archive_id,
                "components": sorted(wanted),
                "keep_settings": request.keep_settings(ctx.settings.service_type),
                "digests": digests,
                "source": {"environment": ctx.settings.environment_name, "version": ctx.settings.version},
            }
        )
    except PeerError as exc:
        if exc.status == 409:
            raise Conflict(f"the target environment is busy: {exc.message}") from None
        raise EnvcloneError(f"the target refused the clone: {exc.message}") from None
    final = _wait_for(peer, remote["id"], remote["receipt"], rec)
    if final["status"] != "succeeded":
        error = final.get("error") or {}
        raise EnvcloneError(f"the target could not apply the clone and was left unchanged: {error.get('message')}")
    rec.set_result(targetDigests=final["result"].get("digests", {}), changes=final["result"].get("changes", {}))
    try:
        ctx.blobs.put(report_key(rec.op.id), peer.apply_report(remote["id"], remote["receipt"]))
        rec.set_result(report=f"/v1/clone/{rec.op.id}/report")
    except PeerError:  # the clone itself succeeded; only its detailed report is missing
        rec.set_result(report=None)
    return digests


def report_key(op_id: str) -> str:
    return f"reports/{op_id}.json"


def _compare(actual: dict[str, str], expected: dict[str, str], components: list[Component], kept: list[str]) -> None:
    differing = [
        c.value
        for c in components
        if c.value in expected and not (c is Component.SETTINGS and kept) and actual.get(c.value) != expected[c.value]
    ]
    if differing:
        raise EnvcloneError(f"after the clone the target differs from the source in: {', '.join(differing)}")
