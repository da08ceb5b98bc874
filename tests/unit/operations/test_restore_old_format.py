"""Backups written before small files were grouped (one bundle of every small file, under the
oldest name ``blobs.bundle``, cut into ~1 MiB chunks like every other entry) still restore: a store
written by the old format keeps working after the upgrade, file contents included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from blake3 import blake3

from envclone.archive import ArchiveReader, ArchiveWriter, EntryKind, Manifest, load_manifest
from envclone.content.bundle import BUNDLE, SMALL_BLOB, write_bundle
from envclone.domain import maintenance, restore
from envclone.domain.archives import ArchiveKind
from envclone.domain.components import Component
from envclone.domain.principal import Principal
from envclone.services import files
from envclone.services.context import ServiceContext
from envclone.store import archives
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})
OLD_CHUNKER = "fastcdc2020-1m"  # before records had their own, finer chunker


def run(ctx: ServiceContext, kind: str, params: dict[str, object]) -> None:
    op = ctx.engine.submit(kind, params, created_by="test")
    done = ctx.engine.wait(op.id, timeout=60)
    assert done.status.value == "succeeded", done.error_message


def old_format(ctx: ServiceContext, new: Manifest) -> Manifest:
    """``new`` rewritten as the old writer wrote it: every small file in ONE bundle, all entries
    cut with the 1 MiB chunker; every other entry's bytes as they are."""
    with ctx.db.read() as conn:
        sizes = conn.exec_driver_sql("SELECT DISTINCT hash, size FROM files").all()
    small = [(str(h), int(s)) for h, s in sizes if s <= SMALL_BLOB]
    with (
        ArchiveReader(ctx.blobs, new) as reader,
        ArchiveWriter(ctx.blobs, source=dict(new.source), records_chunker=OLD_CHUNKER) as writer,
    ):
        for component, entry in new.entries():
            if not entry.name.startswith(BUNDLE):
                writer.add_bytes(component, entry.name, reader.read_bytes(component, entry.name), entry.kind)
        writer.add_stream(Component.FILES.value, BUNDLE, write_bundle(ctx.blobs, small), EntryKind.RECORDS)
        return writer.finish()


def test_a_backup_with_one_bundle_of_all_small_files_still_restores(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "env")
    contents = {f"record-{i}.json": f'{{"id": {i}, "body": "{"y" * (i % 211)}"}}'.encode() * 9 for i in range(400)}
    contents["large.bin"] = bytes(range(256)) * 8192  # 2 MiB: an entry of its own
    for name, data in contents.items():
        up = files.start_upload(ctx, ADMIN, "inbox", name)
        up.write(data)
        up.finish()
    run(ctx, maintenance.KIND, {})
    with ctx.db.read() as conn:
        row = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
    assert row is not None
    old = old_format(ctx, load_manifest(ctx.blobs, row["manifest_id"]))
    bundles = [e for c, e in old.entries() if e.name.startswith(BUNDLE)]
    assert [e.name for e in bundles] == [BUNDLE] and len(bundles[0].chunks) < 10
    old_row: dict[str, Any] = {
        **{k: row[k] for k in ("kind", "size", "components", "digests", "generations", "source")},
        "name": "2020-01-01T00:00:00/Environment_Backup",
        "manifest_id": old.archive_id,
        "created": dt.datetime(2020, 1, 1),
    }
    with ctx.db.begin() as conn:
        archives.record(conn, old_row)

    for name in list(contents)[::3]:  # the environment moves on: some files go
        files.delete_file(ctx, ADMIN, "inbox", name)
    for key in list(ctx.blobs.list("files/")):  # and the store loses every file's content
        ctx.blobs.delete(key)
    request = restore.RestoreRequest(backup_name=old_row["name"], stored_snapshots_and_files=True)
    run(ctx, restore.KIND, request.model_dump(mode="json"))

    for name, data in contents.items():  # every file is back, content included
        _meta, chunks = files.open_file(ctx, ADMIN, "inbox", name)
        assert b"".join(chunks) == data
        assert ctx.blobs.get(f"files/{blake3(data).hexdigest()}") == data
