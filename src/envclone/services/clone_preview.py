"""A clone's dry run: the clone's own plan (operations.clone.plan) with each check's outcome
recorded instead of raised, per component what it would create, replace and remove on the target
(the comparison of its change report, content.diff), and the bytes it would send after
deduplication. It changes nothing, on either end: the target is only read, and whatever the plan
writes on the source (the archive it would send, a stored snapshot's import) goes to a scratch
blob store that is dropped afterwards; with no snapshot to clone from yet, it takes none."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envclone.archive import ArchiveReader, Manifest, chunk_ids, chunks_of, load_manifest
from envclone.blobs import BlobStore, LocalBlobStore
from envclone.blobs.overlay import OverlayBlobStore
from envclone.content.apply import opener
from envclone.content.diff import compare, index_entries
from envclone.domain.clone import VALIDATE, CloneRequest
from envclone.domain.components import Component
from envclone.domain.principal import Permission, Principal
from envclone.errors import EnvcloneError
from envclone.operations.clone.errors import peer_failure
from envclone.operations.clone.plan import TARGET_CHECKS, ClonePlan, snapshot_report
from envclone.peer import PeerClient, PeerError
from envclone.services.clone import checked_request
from envclone.services.context import ServiceContext
from envclone.settings import Settings
from envclone.store.database import Database

LIST_LIMIT = 200  # keys listed per change of each component unless the caller asks otherwise


@dataclass(frozen=True)
class _DryContext:
    """The environment as the plan sees it during a preview: the same database (only read) and a
    blob store whose writes land in scratch."""

    settings: Settings
    db: Database
    blobs: BlobStore
    blob_refs: threading.Lock


@contextmanager
def _scratch(ctx: ServiceContext) -> Iterator[_DryContext]:
    with tempfile.TemporaryDirectory(prefix="envclone-preview-") as scratch:
        blobs = OverlayBlobStore(ctx.blobs, LocalBlobStore(Path(scratch)))
        yield _DryContext(ctx.settings, ctx.db, blobs, ctx.blob_refs)


class _Checks:
    def __init__(self) -> None:
        self.done: list[dict[str, Any]] = []

    def record(self, name: str, problem: str | None) -> None:
        self.done.append({"check": name, "ok": problem is None, "problem": problem})

    @property
    def problem(self) -> str | None:
        """The first failed check's problem: where the clone would stop."""
        return next((c["problem"] for c in self.done if not c["ok"]), None)


def preview_clone(
    ctx: ServiceContext, who: Principal, request: CloneRequest, password: str, *, list_limit: int = LIST_LIMIT
) -> dict[str, Any]:
    """``ok`` is False when the clone would fail; ``problem`` then says why, and nothing is
    compared (a clone that stops at a check sends and changes nothing)."""
    who.require(Permission.MIGRATE)
    request = checked_request(request, password)
    checks = _Checks()
    out: dict[str, Any] = {"ok": False, "problem": None, "checks": checks.done, "components": {}}
    with _scratch(ctx) as dry:
        plan = ClonePlan(dry, request)
        out["options"] = plan.options
        try:
            row = plan.existing_archive()
        except EnvcloneError as exc:
            checks.record(VALIDATE, exc.message)
            out["problem"] = checks.problem
            return out
        checks.record(VALIDATE, None)
        out.update(backupName=row["name"] if row else None, takes_snapshot=row is None, snapshot=None, warnings=[])
        if row is not None:  # which snapshot would be sent, its age, and whether the source changed since
            snapshot, warning = snapshot_report(dry, request, row, plan.components)
            out.update(snapshot=snapshot, warnings=[warning] if warning else [])
        try:
            with PeerClient(request.target_url, request.target_user, password) as peer:
                if _check_target(plan, peer, row, checks):
                    _compare(dry, plan, peer, row, out, list_limit)
        except PeerError as exc:
            raise peer_failure(exc, request.target_url) from None
    out["problem"] = checks.problem
    out["ok"] = out["problem"] is None
    return out


def _check_target(plan: ClonePlan, peer: PeerClient, row: dict[str, Any] | None, checks: _Checks) -> bool:
    """Each of the clone's checks of the target, all of them once logged in; True if all pass."""
    try:
        target = plan.login(peer)
    except EnvcloneError as exc:
        checks.record(TARGET_CHECKS[0], exc.message)
        return False
    archive = row or {"kind": plan.fresh_kind}  # the checks read the archive's kind only
    for step in TARGET_CHECKS:
        failure = plan.check(step, target, archive)
        checks.record(step, failure.summary if failure else None)
    return checks.problem is None


def _compare(
    dry: _DryContext,
    plan: ClonePlan,
    peer: PeerClient,
    row: dict[str, Any] | None,
    out: dict[str, Any],
    list_limit: int,
) -> None:
    manifest = plan.to_send(row, load_manifest(dry.blobs, row["manifest_id"]))[0] if row else plan.to_send_fresh()
    missing = plan.missing(peer, manifest)
    out.update(
        chunks=len(chunk_ids(manifest)),
        chunks_to_send=len(missing),
        bytes_to_send=sum(map(chunks_of(dry.blobs).size, missing)),
        bytes_total=sum(e.size for _, e in manifest.entries()),
    )
    out["components"] = _changes(dry, plan, peer, manifest, list_limit)


def _changes(
    dry: _DryContext, plan: ClonePlan, peer: PeerClient, manifest: Manifest, list_limit: int
) -> dict[str, Any]:
    kept = {f'settings:["{key}"]' for key in plan.keep_settings}
    changes: dict[str, Any] = {}
    with ArchiveReader(dry.blobs, manifest) as reader:
        for component in plan.components:
            new, old = index_entries(opener(reader, component), component), peer.index(component)
            if component is Component.SETTINGS:
                # kept settings stay as the target has them: not a change
                new = {k: v for k, v in new.items() if k not in kept}
                old = {k: v for k, v in old.items() if k not in kept}
            changes[component.value] = compare(old, new, list_limit=list_limit)
    return changes
