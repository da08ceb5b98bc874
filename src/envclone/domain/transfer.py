"""The peer protocol: what crosses between a cloning source and its target, one pydantic model per
body, used by both ends (peer.client sends and reads them; the native API's /v1/transfer routes
validate and answer them). Pure models: no I/O, no HTTP paths."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from envclone.domain.components import Component
from envclone.domain.operation import OperationStatus

MAX_IDS = 20000  # chunk ids one have/want question may carry
RECEIPT_HEADER = "x-envclone-receipt"  # carries the apply's receipt: the only credential for its status
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PeerModel(BaseModel):
    """A body one end writes whole: unknown fields are refused, so that typos do not pass."""

    model_config = ConfigDict(extra="forbid")


class PeerView(BaseModel):
    """The part of a larger answer (a rendered operation, an identity) that a source reads; the rest
    is for other clients, so it is ignored rather than refused."""

    model_config = ConfigDict(extra="ignore")


class MissingRequest(PeerModel):
    ids: list[Hex64] = Field(max_length=MAX_IDS)


class MissingResponse(PeerModel):
    missing: list[str]


class ChunkStored(PeerModel):
    id: str
    stored: bool  # False: the target already held it


class ChunksStored(PeerModel):
    received: int
    stored: int  # the others the target already held


# Several chunks in one body (POST /v1/transfer/chunks): per chunk its id (32 bytes), content size
# and stored length, then the stored blob. One request per chunk cost more than the chunk itself
# once records and small files were cut into ~5 KiB chunks.
CHUNK_FRAME = struct.Struct(">32sQI")
MAX_BATCH_BYTES = 16 * 1024 * 1024  # a batch body's length at most
MAX_BATCH_CHUNKS = 4096


def encode_chunks(items: Iterable[tuple[str, int, bytes]]) -> bytes:
    """One batch body of (chunk id, content size, stored blob)."""
    return b"".join(CHUNK_FRAME.pack(bytes.fromhex(cid), size, len(blob)) + blob for cid, size, blob in items)


def decode_chunks(body: bytes | bytearray) -> list[tuple[str, int, bytes]]:
    """The (chunk id, content size, stored blob) of a batch body; ValueError when it is not one."""
    items: list[tuple[str, int, bytes]] = []
    view = memoryview(body)
    offset = 0
    while offset < len(view):
        if len(view) - offset < CHUNK_FRAME.size:
            raise ValueError("the batch ends inside a chunk's header")
        raw, size, length = CHUNK_FRAME.unpack_from(view, offset)
        offset += CHUNK_FRAME.size
        if len(view) - offset < length:
            raise ValueError("the batch ends inside a chunk")
        items.append((raw.hex(), size, bytes(view[offset : offset + length])))
        offset += length
        if len(items) > MAX_BATCH_CHUNKS:
            raise ValueError(f"a batch holds at most {MAX_BATCH_CHUNKS} chunks")
    return items


class ManifestStored(PeerModel):
    archive_id: str
    components: int
    entries: int
    chunks: int
    unique_chunks: int
    bytes: int


class ApplyRequest(PeerModel):
    """Apply an archive whose chunks and manifest were sent: the chosen components replaced, the
    settings keys the target keeps, the source's digests to check before committing."""

    archive_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    components: list[Component] = Field(min_length=1)
    keep_settings: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list)
    digests: dict[Component, Hex64] = Field(default_factory=dict)
    source: dict[str, Any] = Field(default_factory=dict)  # who sent it, for the target's record


class ApplyResult(PeerView):
    """What the target's apply records as its result (and a source compares with its own)."""

    archive_id: str | None = None
    components: list[Component] = Field(default_factory=list)
    digests: dict[str, str] = Field(default_factory=dict)  # after the apply, per component
    changes: dict[str, Any] = Field(default_factory=dict)  # per component: counts, no objects


class ApplyError(PeerView):
    code: str | None = None
    message: str | None = None


class ApplyProgress(PeerView):
    """How far the target's apply is (its domain.progress view); a target that does not say is at 0.
    Not range-checked: the source clamps it, and a progress figure must never fail a clone."""

    percent: float = 0.0


class ApplyStatus(PeerView):
    """The apply operation as its source polls it (GET /v1/transfer/apply/{id})."""

    id: str
    status: OperationStatus
    progress: ApplyProgress = Field(default_factory=ApplyProgress)
    result: ApplyResult = Field(default_factory=ApplyResult)
    error: ApplyError | None = None


class ApplyAccepted(ApplyStatus):
    """The submitted apply, with the receipt that alone reads its status and report."""

    receipt: str


class ComponentIndex(PeerModel):
    """One component of the target as a preview compares it: each row's key -> its content hash
    (content.diff; a record, having no natural key, is keyed by its content)."""

    index: dict[str, str]


class PeerIdentity(PeerView):
    """Who the source is logged in as on the target (GET /v1/auth/whoami)."""

    roles: list[str] = Field(default_factory=list)


class PeerEnvironment(PeerView):
    """The target environment as its clone checks it (GET /v1/environment)."""

    instance_id: str | None = None
    name: str | None = None
    version: str | None = None
    service_type: str | None = None
