"""A clone's dry run: the clone's own plan (operations.clone.plan) with each check's outcome
recorded instead of raised, per component what it would create, replace and remove on the target,
and the bytes it would send after deduplication. The target is only read; the source may write the
archive it would send (as a backup does), nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envclone.archive import ArchiveReader, chunk_ids, chunks_of, load_manifest
from envclone.content.apply import opener
from envclone.content.diff import compare, index_entries
from envclone.domain.clone import VALIDATE, CloneRequest
from envclone.domain.components import Component
from envclone.domain.principal import Permission, Principal
from envclone.errors import EnvcloneError
from envclone.operations.clone.errors import peer_failure
from envclone.operations.clone.plan import TARGET_CHECKS, ClonePlan
from envclone.peer import PeerClient, PeerError
from envclone.services.clone import checked_request
from envclone.services.context import ServiceContext

LIST_LIMIT = 200


def preview_clone(ctx: ServiceContext, who: Principal, request: CloneRequest, password: str) -> dict[str, Any]:
    who.require(Permission.MIGRATE)
    request = checked_request(request, password)
    plan = ClonePlan(ctx, request)
    checks: list[dict[str, Any]] = []

    def check(name: str, problem: str | None) -> bool:
        checks.append({"check": name, "ok": problem is None, "problem": problem})
        return problem is None

    out: dict[str, Any] = {"checks": checks, "components": {}, "options": plan.options}
    try:
        row = plan.archive()
    except EnvcloneError as exc:
        check(VALIDATE, exc.message)
        return out
    check(VALIDATE, None)
    out["backupName"] = row["name"]
    try:
        with PeerClient(request.target_url, request.target_user, password) as peer:
            _preview_against(ctx, peer, plan, row, out, check)
    except PeerError as exc:
        raise peer_failure(exc, request.target_url) from None
    return out


def _preview_against(
    ctx: ServiceContext,
    peer: PeerClient,
    plan: ClonePlan,
    row: dict[str, Any],
    out: dict[str, Any],
    check: Callable[[str, str | None], bool],
) -> None:
    try:
        target = plan.login(peer)
    except EnvcloneError as exc:
        check(TARGET_CHECKS[0], exc.message)
        return
    for step in TARGET_CHECKS:
        failure = plan.check(step, target, row)
        check(step, failure.summary if failure else None)
    manifest, _digests = plan.to_send(row, load_manifest(ctx.blobs, row["manifest_id"]))
    missing = plan.missing(peer, manifest)
    out.update(
        chunks=len(chunk_ids(manifest)),
        chunks_to_send=len(missing),
        bytes_to_send=sum(map(chunks_of(ctx.blobs).size, missing)),
        bytes_total=sum(e.size for _, e in manifest.entries()),
    )
    kept = {f'settings:["{key}"]' for key in plan.keep_settings}
    with ArchiveReader(ctx.blobs, manifest) as reader:
        for component in plan.components:
            new, old = index_entries(opener(reader, component), component), peer.index(component)
            if component is Component.SETTINGS and isinstance(new, dict) and isinstance(old, dict):
                # kept settings stay as the target has them: not a change
                new = {k: v for k, v in new.items() if k not in kept}
                old = {k: v for k, v in old.items() if k not in kept}
            out["components"][component.value] = compare(old, new, list_limit=LIST_LIMIT)
