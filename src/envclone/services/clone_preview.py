"""A clone's dry run: the checks the clone would make, per component what it would create,
replace and remove on the target, and the bytes it would send after deduplication. The target is
only read; the source may write the archive it would send (as a backup does), nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envclone.archive import ArchiveReader, chunk_ids, chunk_key, load_manifest
from envclone.auth.principal import Permission, Principal
from envclone.content.apply import opener
from envclone.content.diff import compare, index_entries
from envclone.domain.components import Component
from envclone.errors import EnvcloneError
from envclone.operations.archiving import compose
from envclone.operations.clone import run as clone
from envclone.operations.clone.errors import peer_failure
from envclone.operations.clone.options import CloneRequest, version_problem
from envclone.peer import PeerClient, PeerError
from envclone.services.clone import checked_request
from envclone.services.context import ServiceContext
from envclone.services.environment import instance_id

LIST_LIMIT = 200


def preview_clone(ctx: ServiceContext, who: Principal, request: CloneRequest, password: str) -> dict[str, Any]:
    who.require(Permission.MIGRATE)
    request = checked_request(request, password)
    service_type = ctx.settings.service_type
    components = request.components(service_type)
    checks: list[dict[str, Any]] = []

    def check(name: str, problem: str | None) -> bool:
        checks.append({"check": name, "ok": problem is None, "problem": problem})
        return problem is None

    out: dict[str, Any] = {"checks": checks, "components": {}, "options": request.effective(service_type)}
    try:
        row = clone.resolve_archive(ctx, request)
    except EnvcloneError as exc:
        check(clone.VALIDATE, exc.message)
        return out
    check(clone.VALIDATE, None)
    out["backupName"] = row["name"]
    try:
        with PeerClient(request.target_url, request.target_user, password) as peer:
            _preview_against(ctx, peer, request, row, components, out, check)
    except PeerError as exc:
        raise peer_failure(exc, request.target_url) from None
    return out


def _preview_against(
    ctx: ServiceContext,
    peer: PeerClient,
    request: CloneRequest,
    row: dict[str, Any],
    components: list[Component],
    out: dict[str, Any],
    check: Callable[[str, str | None], bool],
) -> None:
    service_type = ctx.settings.service_type
    try:
        target = clone.login_to_target(peer, request, bool(request.effective(service_type)["migrateUsers"]))
    except EnvcloneError as exc:
        check(clone.LOGIN, exc.message)
        return
    same = target.get("instance_id") == instance_id(ctx)
    check(clone.LOGIN, "the target environment is this environment" if same else None)
    check(
        clone.VERSION,
        version_problem(
            ctx.settings.version, str(target.get("version")), environment_backup=row["kind"] == "environment_backup"
        ),
    )
    mismatch = target.get("service_type") != service_type.value
    check(clone.SERVICE, f"the target is a {target.get('service_type')} environment" if mismatch else None)
    base = load_manifest(ctx.blobs, row["manifest_id"])
    manifest = base
    if not all(c.value in {name for name, _ in base.entries()} for c in components):
        with ctx.db.snapshot() as conn:
            manifest = compose(ctx, conn, base, row["digests"], components, lambda _n: None).manifest
    ids = chunk_ids(manifest)
    missing = [cid for start in range(0, len(ids), 5000) for cid in peer.missing(ids[start : start + 5000])]
    out.update(
        chunks=len(ids),
        chunks_to_send=len(missing),
        bytes_to_send=sum(ctx.blobs.size(chunk_key(cid)) for cid in missing),
        bytes_total=sum(e.size for _, e in manifest.entries()),
    )
    kept = {f'settings:["{key}"]' for key in request.keep_settings(service_type)}
    with ArchiveReader(ctx.blobs, manifest) as reader:
        for component in components:
            new, old = index_entries(opener(reader, component), component), peer.index(component.value)
            if component is Component.SETTINGS and isinstance(new, dict) and isinstance(old, dict):
                # kept settings stay as the target has them: not a change
                new = {k: v for k, v in new.items() if k not in kept}
                old = {k: v for k, v in old.items() if k not in kept}
            out["components"][component.value] = compare(old, new, list_limit=LIST_LIMIT)
