"""One clone's plan, worked out the same way by the clone (run.py) and by its dry run
(services.clone_preview): the archive to send, the login and its roles, the checks of the target,
the manifest to send and what the target lacks of it. The run raises a failed check inside its
step; the preview records it. Nothing here writes to the target; the preview runs the plan over a
scratch blob store and never calls ``archive`` (which may record a fresh snapshot)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from envclone.archive import DEFAULT_COMPRESSION, Algorithms, Manifest, chunk_ids, manifest_key, new_archive_id
from envclone.archive.ids import DEFAULT_HASH
from envclone.blobs import BlobStore
from envclone.content.digest import component_digest, store_cached
from envclone.domain.archives import ArchiveKind, age_text
from envclone.domain.clone import ARTIFACT_SNAPSHOT, LOGIN, SERVICE, VERSION, CloneRequest, version_problem
from envclone.domain.components import Component
from envclone.domain.roles import Role
from envclone.domain.transfer import PeerEnvironment
from envclone.errors import EnvcloneError, Forbidden, InvalidRequest, NotFound
from envclone.operations.archiving import ARTIFACT_SNAPSHOT_COMPONENTS, NO_METER, Meter, compose, write_archive
from envclone.operations.clone.errors import ServiceTypeMismatch, TargetLoginFailed, TargetUnreachable, VersionMismatch
from envclone.operations.clone.snapshot import find_stored, stored_archive
from envclone.operations.context import OperationContext
from envclone.peer import PeerClient, PeerError
from envclone.store import archives, server_state
from envclone.store.database import generation

ASK_BATCH = 5000  # chunk ids per have/want question (the target takes up to domain.transfer.MAX_IDS)
TARGET_CHECKS = (LOGIN, VERSION, SERVICE)  # after the login, each in its step
# How long a composed archive is sent again while none of its live components changed: far within
# gc's grace period (a day), which keeps an unrecorded archive and its chunks that long.
REUSE_SECONDS = 3600.0


@dataclass(frozen=True)
class _Composed:
    """The last archive a clone composed here, and what it was composed from."""

    key: tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]  # the base, components, base digests
    generations: dict[str, int]  # each chosen component's change counter, read with the content
    manifest: Manifest
    digests: dict[str, str]
    at: float  # time.monotonic()


_composed: weakref.WeakKeyDictionary[BlobStore, _Composed] = weakref.WeakKeyDictionary()
_composed_lock = threading.Lock()


@dataclass(frozen=True)
class Failure:
    error: EnvcloneError  # what the clone raises
    summary: str  # what the preview reports


class ClonePlan:
    def __init__(self, ctx: OperationContext, request: CloneRequest) -> None:
        self.ctx, self.request = ctx, request
        self.service_type = ctx.settings.service_type
        self.options = request.effective(self.service_type)
        self.components = request.components(self.service_type)
        self.keep_settings = request.keep_settings(self.service_type)

    def archive(self) -> dict[str, Any]:
        """The catalogue row of the archive to clone from (EPM: the last maintenance snapshot unless
        a snapshot or the Environment Backup is named; a named snapshot is a backup of the catalogue
        or a stored snapshot, see snapshot.py). With none yet, a snapshot is taken now."""
        row = self.existing_archive()
        return row if row is not None else self._fresh_snapshot(self.fresh_kind)

    @property
    def fresh_kind(self) -> str:
        """What the clone takes first when there is no archive to clone from yet."""
        return ArchiveKind.ENVIRONMENT_BACKUP if self.request.environment_backup else ArchiveKind.ARTIFACT_SNAPSHOT

    def existing_archive(self) -> dict[str, Any] | None:
        """The archive to clone from if there is one, else None (the clone takes a snapshot first).
        Writes nothing to the database; a stored snapshot's package is imported into the blob store."""
        request, ctx = self.request, self.ctx
        stored: dict[str, Any] | None = None
        with ctx.db.read() as conn:
            if request.environment_backup:
                row = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
            elif request.snapshot_name in (None, "", ARTIFACT_SNAPSHOT):
                row = archives.latest(conn, ArchiveKind.ARTIFACT_SNAPSHOT)
            else:
                row = archives.find(conn, str(request.snapshot_name))
                stored = None if row is not None else find_stored(conn, str(request.snapshot_name))
        if row is None and stored is not None:
            return stored_archive(ctx, stored)
        if row is None and request.names_snapshot:
            raise NotFound(f"snapshot {request.snapshot_name} not found in the source environment")
        return row

    def _fresh_snapshot(self, kind: str) -> dict[str, Any]:
        """No daily maintenance has run yet: take the snapshot now rather than refuse."""
        created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        components = _snapshot_components(kind)
        with self.ctx.db.snapshot() as conn:
            written = write_archive(self.ctx, conn, kind, components, created)
        with self.ctx.db.read() as conn:
            return archives.get(conn, written.name)

    def login(self, peer: PeerClient) -> PeerEnvironment:
        """Log in to the target, check the roles the clone needs there, and describe it."""
        user = self.request.target_user
        try:
            who = peer.whoami()
        except PeerError as exc:
            if exc.status == 0:
                raise TargetUnreachable(f"cannot reach the target environment at {peer.url}") from None
            if exc.status == 401:
                raise TargetLoginFailed(f"login to the target environment as {user} failed") from None
            raise TargetLoginFailed(f"login to the target environment failed: {exc.message}") from None
        roles = set(who.roles)
        if Role.SERVICE_ADMINISTRATOR.value not in roles:
            raise Forbidden(f"{user} is not a Service Administrator in the target environment")
        if self.options["migrateUsers"] and Role.IDENTITY_DOMAIN_ADMINISTRATOR.value not in roles:
            raise Forbidden(f"migrateUsers needs {user} to be Identity Domain Administrator in the target")
        return peer.environment()

    def check(self, step: str, target: PeerEnvironment, row: dict[str, Any]) -> Failure | None:
        """One of TARGET_CHECKS: the target is another environment, of a version the archive may go
        to, of the same service type."""
        if step == LOGIN:
            with self.ctx.db.read() as conn:
                here = str(server_state.get(conn, server_state.INSTANCE_ID))
            if target.instance_id == here:
                same = "the target environment is this environment"
                return Failure(InvalidRequest(f"{same}: clone to another one"), same)
            wanted = self.request.replica_name
            if wanted is not None and target.name != wanted:
                other = f"the target environment is named {target.name!r}, not {wanted!r} as this job's replica is"
                return Failure(InvalidRequest(f"{other}: it was left unchanged"), other)
            return None
        if step == VERSION:
            backup = row["kind"] == ArchiveKind.ENVIRONMENT_BACKUP
            problem = version_problem(self.ctx.settings.version, str(target.version), environment_backup=backup)
            return Failure(VersionMismatch(problem), problem) if problem else None
        if step == SERVICE:
            if target.service_type == self.service_type.value:
                return None
            other = f"the target is a {target.service_type} environment"
            message = (
                f"{other} and the source a {self.service_type.value} environment: "
                "clone only between environments of the same service type"
            )
            return Failure(ServiceTypeMismatch(message), other)
        raise ValueError(f"no target check named {step!r}")

    def require(self, step: str, target: PeerEnvironment, row: dict[str, Any]) -> None:
        failure = self.check(step, target, row)
        if failure is not None:
            raise failure.error

    def to_send(self, row: dict[str, Any], base: Manifest, meter: Meter = NO_METER) -> tuple[Manifest, dict[str, str]]:
        """The manifest to send and its digests: the archive's own when it holds every component,
        else composed with the records or files it lacks, read live from this environment (its
        progress to ``meter``)."""
        if self._covers({c for c, _ in base.entries()}):
            recorded = row["digests"]
            return base, {c.value: recorded[c.value] for c in self.components if c.value in recorded}
        key = (base.archive_id, tuple(c.value for c in self.components), tuple(sorted(row["digests"].items())))
        with self.ctx.db.snapshot() as conn:
            # Read in the snapshot compose reads: a counter that moves after it is a change it missed.
            generations = {c.value: generation(conn, c) for c in self.components}
            again = _composed_before(self.ctx.blobs, key, generations)
            if again is not None:  # a clone again, nothing changed since: compose it again for nothing
                return again.manifest, dict(again.digests)
            composed = compose(self.ctx, conn, base, row["digests"], self.components, meter)
        _remember_composed(
            self.ctx.blobs, _Composed(key, generations, composed.manifest, dict(composed.digests), time.monotonic())
        )
        return composed.manifest, composed.digests

    def to_send_fresh(self) -> Manifest:
        """With no archive yet (``existing_archive`` None), what ``archive`` then ``to_send`` would
        send, as this environment holds it now, in an archive no catalogue records: the snapshot
        whole if it holds every chosen component, else the chosen ones. Same content, same chunks."""
        snapshot = _snapshot_components(self.fresh_kind)
        every = snapshot if self._covers({c.value for c in snapshot}) else self.components
        now = dt.datetime.now(dt.UTC)
        s = self.ctx.settings
        source = {"environment": s.environment_name, "version": s.version, "service_type": s.service_type.value}
        nothing = Manifest(new_archive_id(now), now, source, Algorithms({}, DEFAULT_HASH, DEFAULT_COMPRESSION), ())
        with self.ctx.db.snapshot() as conn:
            return compose(self.ctx, conn, nothing, {}, every, NO_METER).manifest

    def _covers(self, held: set[str]) -> bool:
        """Whether an archive holding the components ``held`` is sent as it is (else composed)."""
        return all(c.value in held for c in self.components)

    def missing(self, peer: PeerClient, manifest: Manifest, check: Callable[[], None] = lambda: None) -> list[str]:
        """Have/want: the manifest's chunks the target lacks, asked in batches; ``check`` may raise
        between them to stop (cancel)."""
        ids = chunk_ids(manifest)
        missing: list[str] = []
        for start in range(0, len(ids), ASK_BATCH):
            check()
            missing.extend(peer.missing(ids[start : start + ASK_BATCH]))
        return missing


def _composed_before(
    blobs: BlobStore, key: tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], generations: dict[str, int]
) -> _Composed | None:
    """The archive composed last from the same base and components, if none of them changed since
    (their change counters say so without reading them), it is recent, and the store still holds it."""
    try:
        with _composed_lock:
            last = _composed.get(blobs)
    except TypeError:  # a store that cannot be weakly referenced: nothing remembered
        return None
    if last is None or last.key != key or last.generations != generations:
        return None
    if time.monotonic() - last.at > REUSE_SECONDS or not blobs.exists(manifest_key(last.manifest.archive_id)):
        return None
    return last


def _remember_composed(blobs: BlobStore, composed: _Composed) -> None:
    try:
        with _composed_lock:
            _composed[blobs] = composed
    except TypeError:
        pass


def _snapshot_components(kind: str) -> tuple[Component, ...]:
    return ARTIFACT_SNAPSHOT_COMPONENTS if kind == ArchiveKind.ARTIFACT_SNAPSHOT else tuple(Component)


def changed_since(
    ctx: OperationContext, row: dict[str, Any], components: list[Component], *, remember: bool = False
) -> list[str] | None:
    """The components the clone takes from the archive whose live content no longer has the digest
    the archive recorded: the source changed since the snapshot. A component whose change counter
    is still the archive's is unchanged without reading it; the others' digests are compared. None
    for a snapshot from another environment (no counters recorded): it has no "since"."""
    generations: dict[str, int] | None = row.get("generations")
    if not generations:
        return None
    recorded: dict[str, str] = row["digests"]
    changed = []
    computed: list[tuple[Component, str, int]] = []
    with ctx.db.read() as conn:
        for component in components:
            name = component.value
            current = generation(conn, component)
            if name not in recorded or generations.get(name) == current:
                continue
            digest = component_digest(conn, component)
            computed.append((component, digest, current))
            if digest != recorded[name]:
                changed.append(name)
    if remember and computed:
        # The clone composes these components next and needs their digests: kept at the counter
        # they were read at (dropped by store_cached if the component changed since).
        with ctx.db.begin() as conn:
            for component, digest, current in computed:
                store_cached(conn, component, digest, current)
    return changed


def snapshot_report(
    ctx: OperationContext,
    request: CloneRequest,
    row: dict[str, Any],
    components: list[Component],
    *,
    remember: bool = False,
) -> tuple[dict[str, Any], str | None]:
    """Which snapshot the clone sends, how old it is, and whether the source changed since, with
    the warning to give when it did: the target gets the snapshot's content, not the current one,
    and a clone without a fresh daily maintenance must not pass that over in silence."""
    created: dt.datetime = row["created"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    age = max(0, int((now - created).total_seconds()))
    changed = changed_since(ctx, row, components, remember=remember)
    warning = None
    if changed:
        advice = (
            "name a newer snapshot, or run daily maintenance (runDailyMaintenance) and clone again"
            if request.names_snapshot
            else "run daily maintenance (runDailyMaintenance) and clone again"
        )
        warning = (
            f"the source environment changed since the snapshot {row['name']} was taken {age_text(age)} ago: "
            f"its {', '.join(changed)} differ from the snapshot's, and the target gets the snapshot's content, "
            f"not the current one; to clone the current content, {advice}"
        )
    report = {
        "name": row["name"],
        "kind": str(row["kind"]),
        "created": created.isoformat(timespec="seconds"),
        "ageSeconds": age,
        "changedSince": changed,
        "stale": bool(changed),
    }
    return report, warning
