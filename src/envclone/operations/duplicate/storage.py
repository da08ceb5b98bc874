"""The storage service as the two sides of a cross-environment duplication use it: a folder both
servers reach or an S3 bucket (the same blob store code as envclone's own object store), opened as
a blob store holding archive chunks (shared by every duplication, so a
re-duplication after a small change moves only the changed chunks), manifests, and per duplication
id a small record the source publishes last (``duplications/<id>.json``) or a cancel marker
(``duplications/<id>.cancelled``). Every chunk is verified as it arrives, on either side."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from envclone.archive import Manifest, accept_chunk, accept_manifest, chunks_of, gc, load_manifest, missing_for
from envclone.archive.ids import manifest_key
from envclone.blobs.local import LocalBlobStore
from envclone.blobs.s3_location import S3Credentials
from envclone.blobs.store import BlobStore, open_blob_store
from envclone.errors import NotFound
from envclone.operations.duplicate.package import PackageInfo

PREFIX = "duplications/"
POLL_SECONDS = 0.2


class Published(BaseModel):
    """What the source publishes once the package is whole in the storage service."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    manifest_id: str
    info: PackageInfo


# The operation secrets (sealed with the operation record, never in its parameters) that carry
# the Storage Service's access key to a side that opens a bucket; the names are mstrio-py's fields.
ACCESS_ID, SECRET_KEY = "awsAccessId", "awsSecretKey"


def open_storage(place: str, credentials: S3Credentials | None = None) -> BlobStore:
    """``place`` is a folder, or an ``s3://`` URL (the bucket is checked as it opens: a refusal is
    an ObjectStoreError naming the S3 error, never a credential). ``credentials`` None: the AWS
    environment variables and files, as for envclone's own object store."""
    if place.startswith("s3://"):
        return open_blob_store(place, credentials=credentials)
    return LocalBlobStore(Path(place))


def credentials_of(secrets: dict[str, str]) -> S3Credentials | None:
    """The access key an operation was given, if any."""
    if secrets.get(ACCESS_ID) and secrets.get(SECRET_KEY):
        return S3Credentials(secrets[ACCESS_ID], secrets[SECRET_KEY])
    return None


def record_key(dup_id: str) -> str:
    return f"{PREFIX}{dup_id}.json"


def cancel_key(dup_id: str) -> str:
    return f"{PREFIX}{dup_id}.cancelled"


def copy_chunks(src: BlobStore, dst: BlobStore, manifest: Manifest, on_bytes: Callable[[int], None]) -> int:
    """Copy the chunks ``dst`` lacks, each verified against its id on arrival; returns how many."""
    sizes = {ref.id: ref.size for _, entry in manifest.entries() for ref in entry.chunks}
    hash_name = manifest.algorithms.hash
    source = chunks_of(src)
    missing = missing_for(dst, manifest)
    for cid in missing:
        blob = source.get(cid)
        accept_chunk(dst, cid, sizes[cid], blob, hash_name)
        on_bytes(len(blob))
    return len(missing)


def push(local: BlobStore, shared: BlobStore, manifest: Manifest, on_bytes: Callable[[int], None]) -> int:
    """The archive into the storage service: missing chunks, then its manifest."""
    copied = copy_chunks(local, shared, manifest, on_bytes)
    accept_manifest(shared, manifest.to_blob())
    return copied


def publish(shared: BlobStore, dup_id: str, published: Published) -> None:
    shared.put(record_key(dup_id), published.model_dump_json().encode())


def mark_cancelled(shared: BlobStore, dup_id: str) -> None:
    shared.put(cancel_key(dup_id), b"cancelled\n")


def is_cancelled(shared: BlobStore, dup_id: str) -> bool:
    return shared.exists(cancel_key(dup_id))


def find_published(shared: BlobStore, dup_id: str) -> Published | None:
    try:
        return Published.model_validate_json(shared.get(record_key(dup_id)))
    except NotFound:
        return None


def wait_published(
    shared: BlobStore, dup_id: str, timeout: float, check: Callable[[], None], cancelled: Callable[[], None]
) -> Published | None:
    """Poll until the source publishes; ``check`` raises on this side's cancel, ``cancelled`` is
    called (and should raise) when the source cancelled. None when ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        # Published first: the source publishes after its last cancel check, so a published
        # package means the source ends exported, whatever marker a late cancel left.
        published = find_published(shared, dup_id)
        if published is not None:
            return published
        if is_cancelled(shared, dup_id):
            cancelled()
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def pull(shared: BlobStore, local: BlobStore, manifest_id: str, on_bytes: Callable[[int], None]) -> Manifest:
    """The published archive into this server's store: the chunks it lacks, then the manifest."""
    manifest = load_manifest(shared, manifest_id)
    copy_chunks(shared, local, manifest, on_bytes)
    return accept_manifest(local, manifest.to_blob())


def remove(shared: BlobStore, dup_id: str) -> None:
    """A deleted source duplication: its record and manifest go, then the chunks no other
    published package uses (gc's grace and session rules keep what another writer may need)."""
    published = find_published(shared, dup_id)
    shared.delete(record_key(dup_id))
    shared.delete(cancel_key(dup_id))
    if published is not None:
        shared.delete(manifest_key(published.manifest_id))
    kept = []
    for key in shared.list(PREFIX):
        if key.endswith(".json"):
            other = find_published(shared, key.removeprefix(PREFIX).removesuffix(".json"))
            if other is not None:
                kept.append(other.manifest_id)
    gc(shared, kept)
