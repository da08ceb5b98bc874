"""A stored snapshot as the archive a clone sends or a restore applies. EPM: the snapshot to clone
from may be "any snapshot copied to the source environment" (restoreBackup, or an uploaded
snapshot), not only one of the daily maintenance's; and an Environment Backup downloaded from one
environment and uploaded to another is restored there like one of its own. A stored snapshot is
an archive package in the ``snapshots`` file area; its manifest names the archive. If the
catalogue still holds that archive (a backup copied in by restoreBackup, or a package downloaded
from this environment and uploaded again), its recorded digests are used; otherwise the package
is imported into the blob store and its digests computed by applying it to a scratch SQLite
database, the very code a restore runs, so that the final digest check of a clone or a restore
means the same as for any other archive."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from envclone.archive import ArchiveReader, Manifest, import_archive, read_package_manifest
from envclone.blobs.store import open_blob
from envclone.content.apply import opener
from envclone.content.digest import compute_component
from envclone.content.replace import replace_component
from envclone.domain.archives import ArchiveKind
from envclone.domain.components import Component
from envclone.domain.files import FileArea
from envclone.errors import NotFound
from envclone.operations.context import OperationContext
from envclone.store import archives
from envclone.store import files as stored_files
from envclone.store.database import Database


def find_stored(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    """The files row of a stored snapshot named ``name`` (the ``.zip`` may be left out)."""
    for candidate in (name, f"{name}.zip"):
        row = stored_files.find(conn, FileArea.SNAPSHOTS, candidate)
        if row is not None:
            return row
    return None


def stored_manifest(ctx: OperationContext, stored: dict[str, Any]) -> Manifest:
    """The manifest of a stored snapshot, read from the start of its package (nothing else is)."""
    with open_blob(ctx.blobs, f"files/{stored['hash']}") as src:
        return read_package_manifest(src)


def kind_of(manifest: Manifest) -> ArchiveKind:
    """An archive holding every component is an Environment Backup, any other an Artifact Snapshot."""
    held = {c for c, _ in manifest.entries()}
    return ArchiveKind.ENVIRONMENT_BACKUP if held >= {c.value for c in Component} else ArchiveKind.ARTIFACT_SNAPSHOT


def stored_archive(ctx: OperationContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A catalogue-like row (name, kind, manifest_id, created, digests) for a stored snapshot. A
    row of this environment's catalogue keeps its ``generations``; one imported from elsewhere has
    none (its content was never this environment's)."""
    key = f"files/{stored['hash']}"
    manifest = stored_manifest(ctx, stored)
    with ctx.db.read() as conn:
        known = archives.find_manifest(conn, manifest.archive_id)
    if known is not None:
        return {**known, "name": stored["name"]}
    with open_blob(ctx.blobs, key) as src:
        manifest = import_archive(src, ctx.blobs)
    components = sorted({Component(c) for c, _ in manifest.entries()}, key=lambda c: c.value)
    return {
        "name": stored["name"],
        "kind": kind_of(manifest),
        "manifest_id": manifest.archive_id,
        "created": manifest.created_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
        "components": [c.value for c in components],
        "digests": archive_digests(ctx, manifest, components),
    }


def environment_backup(ctx: OperationContext, name: str) -> dict[str, Any]:
    """The Environment Backup a restore applies, as a catalogue row: one of this environment's
    (listed by listBackups), or a stored snapshot holding every component (an Environment Backup
    uploaded from elsewhere or copied in by restoreBackup), imported if need be."""
    with ctx.db.read() as conn:
        row = archives.find(conn, name)
        stored = find_stored(conn, name) if row is None else None
    if stored is not None:
        row = stored_archive(ctx, stored)
    if row is None or row["kind"] != ArchiveKind.ENVIRONMENT_BACKUP:
        raise NotFound(f"environment backup {name} not found")
    return row


def archive_digests(ctx: OperationContext, manifest: Manifest, components: list[Component]) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="envclone-digest-") as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            db.migrate()
            with ArchiveReader(ctx.blobs, manifest) as reader, db.begin() as conn:
                for component in components:
                    replace_component(conn, component, opener(reader, component))
                return {c.value: compute_component(conn, c) for c in components}
        finally:
            db.dispose()
