"""The daily maintenance operation: Artifact Snapshot, Environment Backup (both from one
snapshot of the database, so they agree), then retention and chunk garbage collection."""

from __future__ import annotations

import datetime as dt

from envclone.archive import compaction_due, gc, migrate_chunks
from envclone.domain.archives import ArchiveKind
from envclone.domain.maintenance import BACKUP_STEP, RETENTION_STEP, SNAPSHOT_STEP
from envclone.domain.operation import Operation
from envclone.engine import Recorder
from envclone.operations.archiving import ALL_COMPONENTS, ARTIFACT_SNAPSHOT_COMPONENTS, write_archive
from envclone.operations.context import OperationContext
from envclone.store import archives, duplications


def run_daily_maintenance(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with ctx.db.snapshot() as conn:
        with rec.step(SNAPSHOT_STEP):
            kind, components = ArchiveKind.ARTIFACT_SNAPSHOT, ARTIFACT_SNAPSHOT_COMPONENTS
            snapshot = write_archive(ctx, conn, kind, components, created, rec)
            rec.set_result(artifactSnapshot=snapshot.name)
        with rec.step(BACKUP_STEP):
            backup = write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, ALL_COMPONENTS, created, rec)
            rec.set_result(environmentBackup=backup.name, bytes=backup.size, bytesReused=backup.reused)
    with rec.step(RETENTION_STEP):
        keep = ctx.settings.backup_retention
        with ctx.db.begin() as conn:
            dropped = archives.prune(conn, ArchiveKind.ARTIFACT_SNAPSHOT, keep)
            dropped += archives.prune(conn, ArchiveKind.ENVIRONMENT_BACKUP, keep)
            kept = [row["manifest_id"] for row in archives.listing(conn)]
            kept += duplications.manifest_ids(conn)  # a source's package stays downloadable
        # Chunks of pruned archives go once they are older than gc's grace period; a chunk a
        # concurrent writer may still need is never younger than that. Nothing pruned, nothing
        # to collect (aborted writers' leftovers wait for the next prune).
        orphaned = {row["manifest_id"] for row in dropped} - set(kept)  # unchanged days share one archive
        # A pack store still holding chunks one blob each (written before packs were the default),
        # or many index blobs, is compacted by gc's pass too, pruned or not.
        collected = gc(ctx.blobs, kept) if orphaned or compaction_due(ctx.blobs) else None
        deleted = len(collected.deleted_chunks) if collected else 0
        migrated = collected.packs.migrated_chunks if collected and collected.packs else 0
        # What gc skipped (a session was active) moves now: moving chunks needs no gc rule.
        migrated += migrate_chunks(ctx.blobs)
        rec.set_result(pruned=[row["name"] for row in dropped], chunksDeleted=deleted, chunksMigrated=migrated)
