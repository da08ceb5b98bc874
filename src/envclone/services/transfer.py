"""The receiving side of a clone, called by the source over the native API: which chunks are
missing here, receive a chunk or a manifest (each verified), and apply an archive atomically.
Requires the migration permission, plus Identity Domain Administrator to replace users."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from envclone.archive import accept_chunk, accept_manifest, load_manifest, missing_chunks
from envclone.archive.errors import ArchiveError, ArchiveNotFound
from envclone.archive.ids import check_archive_id, is_chunk_id, manifest_key
from envclone.auth import tokens
from envclone.blobs import BlobStore
from envclone.content.diff import index_db
from envclone.domain import clone
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.domain.transfer import MAX_IDS, ApplyRequest, ManifestStored
from envclone.errors import InvalidCredentials, InvalidRequest
from envclone.services.context import ServiceContext
from envclone.store.principals import RECEIPT_PREFIX

RECEIPT_SECONDS = 7 * 24 * 3600
MAX_CHUNK_SIZE = 64 * 1024 * 1024  # a chunk's content length; the chunker's are far smaller
_RECENT = 16  # manifests remembered as received and checked here, per store

# The archive ids whose manifest this process received, parsed and found complete: the apply asked
# for next need not parse tens of thousands of chunk refs again to know it is present and intact.
_received: weakref.WeakKeyDictionary[BlobStore, OrderedDict[str, None]] = weakref.WeakKeyDictionary()
_received_lock = threading.Lock()


class RefusedUpload(InvalidRequest, status=422):
    """What the source sent is not a valid chunk, manifest or archive id."""

    def __init__(self, cause: ArchiveError) -> None:
        super().__init__(cause.message, details=cause.details)
        self.code = cause.code  # the archive's own code (manifest_corrupt, chunk_corrupt...)


@contextmanager
def _from_the_client() -> Iterator[None]:
    """Archive errors about bytes or ids a client just sent are that client's mistake (422 with the
    archive's code), not a server fault; the same errors on stored archives stay server errors."""
    try:
        yield
    except ArchiveNotFound:
        raise
    except ArchiveError as exc:
        raise RefusedUpload(exc) from None


def missing(ctx: ServiceContext, who: Principal, ids: list[str]) -> list[str]:
    who.require(Permission.MIGRATE)
    if len(ids) > MAX_IDS:
        raise InvalidRequest(f"ask about at most {MAX_IDS} chunks at a time")
    return missing_chunks(ctx.blobs, ids)


def may_receive(who: Principal) -> None:
    """Whether ``who`` may send chunks and manifests, decided before a body is read: the route
    holds a body in memory (up to 256 MiB), which who may not send must never make it do."""
    who.require(Permission.MIGRATE)


def receive_chunk(ctx: ServiceContext, who: Principal, chunk_id: str, size: int, blob: bytes) -> bool:
    who.require(Permission.MIGRATE)
    if not is_chunk_id(chunk_id):
        raise InvalidRequest(f"chunk id {chunk_id[:80]!r} is not 64 lowercase hex digits")
    if not 0 <= size <= MAX_CHUNK_SIZE:
        raise InvalidRequest(f"size must be between 0 and {MAX_CHUNK_SIZE}")
    with _from_the_client():
        return accept_chunk(ctx.blobs, chunk_id, size, blob)


def receive_chunks(ctx: ServiceContext, who: Principal, items: list[tuple[str, int, bytes]]) -> int:
    """Several chunks, each as ``receive_chunk`` takes one; returns how many were new. Those before
    a refused one stay stored (each was verified): a resent batch skips them."""
    who.require(Permission.MIGRATE)
    return sum(receive_chunk(ctx, who, cid, size, blob) for cid, size, blob in items)


def receive_manifest(ctx: ServiceContext, who: Principal, blob: bytes) -> ManifestStored:
    who.require(Permission.MIGRATE)
    with _from_the_client():
        manifest = accept_manifest(ctx.blobs, blob)
    _remember_received(ctx.blobs, manifest.archive_id)
    return ManifestStored(archive_id=manifest.archive_id, **manifest.counts())


def start_apply(ctx: ServiceContext, who: Principal, request: ApplyRequest) -> tuple[Operation, str]:
    """Submit the apply and return it with its receipt: a token that reads this one operation's
    status and nothing else. The apply may replace the very users the source logged in as
    (migrateUsers), so the source cannot count on them after. The receipt is written in the same
    transaction as the operation, so there is never an apply running that nobody can follow."""
    who.require(Permission.MIGRATE)
    if Component.USERS in request.components:
        who.require(Permission.MIGRATE_USERS)
    with _from_the_client():
        check_archive_id(request.archive_id)
    if not _just_received(ctx.blobs, request.archive_id):
        load_manifest(ctx.blobs, request.archive_id)  # present and intact before anything is recorded
    receipts: list[str] = []

    def issue_receipt(conn: sa.Connection, op: Operation) -> None:
        receipt, _ = tokens.issue(conn, who.login, kind=receipt_kind(op.id), ttl_seconds=RECEIPT_SECONDS)
        receipts.append(receipt)

    op = ctx.engine.submit(clone.APPLY_KIND, request.model_dump(mode="json"), created_by=who.login, also=issue_receipt)
    return op, receipts[0]


def _remember_received(blobs: BlobStore, archive_id: str) -> None:
    try:
        with _received_lock:
            recent = _received.setdefault(blobs, OrderedDict())
            recent[archive_id] = None
            while len(recent) > _RECENT:
                recent.popitem(last=False)
    except TypeError:  # a store that cannot be weakly referenced: nothing remembered
        pass


def _just_received(blobs: BlobStore, archive_id: str) -> bool:
    """Whether this process accepted that manifest (checked whole) and the store still holds it."""
    try:
        with _received_lock:
            known = archive_id in _received.get(blobs, ())
    except TypeError:
        return False
    return known and blobs.exists(manifest_key(archive_id))


def receipt_kind(op_id: str) -> str:
    return f"{RECEIPT_PREFIX}{op_id}"


def apply_status(ctx: ServiceContext, op_id: str, receipt: str) -> Operation:
    with ctx.db.read() as conn:
        if tokens.resolve(conn, receipt, kind=receipt_kind(op_id)) is None:
            raise InvalidCredentials("the receipt is not valid for this operation")
    return ctx.engine.get(op_id)


def cancel_apply(ctx: ServiceContext, op_id: str, receipt: str) -> Operation:
    """The source cancelling the clone: stop this apply unless it has passed its point of no
    return (engine.cancel refuses then). The receipt is the credential, as for the status."""
    apply_status(ctx, op_id, receipt)  # checks the receipt
    return ctx.engine.cancel(op_id)


def apply_report(ctx: ServiceContext, op_id: str, receipt: str) -> bytes:
    apply_status(ctx, op_id, receipt)  # checks the receipt
    return ctx.blobs.get(clone.report_key(op_id))


def component_index(ctx: ServiceContext, who: Principal, component: str) -> dict[str, str]:
    """A clone preview's view of this environment: key -> content hash per row (content.diff)."""
    who.require(Permission.MIGRATE)
    try:
        chosen = Component(component)
    except ValueError:
        raise InvalidRequest(f"unknown component {component!r}") from None
    with ctx.db.snapshot() as conn:
        return index_db(conn, chosen)
