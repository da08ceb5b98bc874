"""A stored snapshot as the archive a clone sends. EPM: the snapshot to clone from may be "any
snapshot copied to the source environment" (restoreBackup, or an uploaded snapshot), not only one
of the daily maintenance's. A stored snapshot is an archive package in the ``snapshots`` file
area; its manifest names the archive. If the catalogue still holds that archive (a backup copied
in by restoreBackup), its recorded digests are used; otherwise the package is imported into the
blob store and its digests computed by applying it to a scratch SQLite database, the very code a
restore runs, so that the clone's final digest check means the same as for any other archive."""

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


def stored_archive(ctx: OperationContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A catalogue-like row (name, kind, manifest_id, created, digests) for a stored snapshot."""
    key = f"files/{stored['hash']}"
    with open_blob(ctx.blobs, key) as src:
        manifest = read_package_manifest(src)
    with ctx.db.read() as conn:
        known = archives.find_manifest(conn, manifest.archive_id)
    if known is not None:
        return {**known, "name": stored["name"]}
    with open_blob(ctx.blobs, key) as src:
        manifest = import_archive(src, ctx.blobs)
    components = sorted({Component(c) for c, _ in manifest.entries()}, key=lambda c: c.value)
    everything = set(components) == set(Component)
    return {
        "name": stored["name"],
        "kind": ArchiveKind.ENVIRONMENT_BACKUP if everything else ArchiveKind.ARTIFACT_SNAPSHOT,
        "manifest_id": manifest.archive_id,
        "created": manifest.created_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
        "components": [c.value for c in components],
        "digests": archive_digests(ctx, manifest, components),
    }


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
