"""The restoreBackup operation: an archived backup streamed as one package file (the archive
package format) into a file of the ``snapshots`` area. Nothing is visible until the whole file is
written and verified; a damaged backup or a cancel leaves no file behind."""

from __future__ import annotations

import datetime as dt
from typing import BinaryIO, cast

import sqlalchemy as sa
from blake3 import blake3

from envclone.archive import export_archive, load_manifest
from envclone.archive.package import package_size
from envclone.blobs.store import BlobWriter
from envclone.domain.copy import STEP, CopyRequest
from envclone.domain.files import FileArea
from envclone.domain.operation import Operation
from envclone.engine import Recorder
from envclone.errors import Conflict
from envclone.operations.context import OperationContext
from envclone.store import archives
from envclone.store import files as stored_files

# Names a stored snapshot must not take: a file of the same name in either area would shadow it.
CLASHING_AREAS = (FileArea.SNAPSHOTS.value, FileArea.INBOX.value)


class _Sink:
    """The package file being written: hashed as it goes, progress reported, cancel honoured."""

    def __init__(self, writer: BlobWriter, rec: Recorder) -> None:
        self._writer, self._rec = writer, rec
        self._hash = blake3(max_threads=1)
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._writer.write(data)
        self.size += len(data)
        self._rec.advance(nbytes=len(data))
        self._rec.check_cancelled()
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()


def name_taken(conn: sa.Connection, name: str) -> bool:
    return any(stored_files.find(conn, area, name) for area in CLASHING_AREAS)


def _publish(ctx: OperationContext, name: str, sink: _Sink, writer: BlobWriter) -> None:
    row = {
        "area": FileArea.SNAPSHOTS.value,
        "name": name,
        "size": sink.size,
        "hash": sink.digest,
        "modified": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    with ctx.blob_refs:
        with ctx.db.read() as conn:
            if name_taken(conn, name):
                raise Conflict(f"a file named {name} already exists; choose another target name")
        writer.commit(f"files/{sink.digest}")
        with ctx.db.begin() as conn:
            stored_files.rows.insert(conn, row)


def run_copy_backup(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = CopyRequest.model_validate(op.params)
    with ctx.db.read() as conn:
        row = archives.get(conn, request.backup_name)
    with rec.step(STEP):
        manifest = load_manifest(ctx.blobs, row["manifest_id"])
        rec.plan(bytes_total=package_size(ctx.blobs, manifest))
        writer = ctx.blobs.writer()
        try:
            sink = _Sink(writer, rec)
            export_archive(ctx.blobs, row["manifest_id"], cast(BinaryIO, sink))
            _publish(ctx, request.target_name, sink, writer)
        finally:
            writer.abort()
        rec.set_result(backupName=request.backup_name, snapshotName=request.target_name, size=sink.size)
