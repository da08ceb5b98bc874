"""The three duplication handlers, one per kind (domain.duplication): LOCAL exports then imports
here; SOURCE exports and syncs the package into the storage service; TARGET syncs it from there
(or reads an uploaded package already imported), takes the content lock, and imports. The import is apply_archive's one
transaction, so cancel, progress and all-or-nothing are a restore's."""

from __future__ import annotations

from envclone import __version__
from envclone.archive import ArchiveReader, ArchiveWriter, Manifest, load_manifest
from envclone.blobs.store import BlobStore
from envclone.domain.components import Component
from envclone.domain.duplication import EXPORT_STEP, IMPORT_STEP, SYNC_IN_STEP, SYNC_OUT_STEP
from envclone.domain.operation import Operation
from envclone.engine import Cancelled, Recorder
from envclone.operations.apply_archive import Applying, ArchiveApply, apply_archive
from envclone.operations.content_lock import hold_content_lock
from envclone.operations.context import OperationContext
from envclone.operations.duplicate import storage
from envclone.operations.duplicate.errors import StorageNotConfigured, SyncTimedOut
from envclone.operations.duplicate.importing import Imported, import_project
from envclone.operations.duplicate.package import PACKAGE_VERSION, PackageInfo, read_info, write_info
from envclone.operations.duplicate.params import DuplicationParams
from envclone.operations.duplicate.selection import count_objects, export_project
from envclone.store import duplications


def run_duplicate(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    params = DuplicationParams.model_validate(op.params).resolved(op.id)
    manifest = _export(ctx, rec, params)
    _import(ctx, rec, params, manifest)


def run_export(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    params = DuplicationParams.model_validate(op.params).resolved(op.id)
    shared = _storage(ctx, op, params)
    try:
        manifest = _export(ctx, rec, params)
        with rec.step(SYNC_OUT_STEP):
            rec.phase("sync_out")
            rec.plan(bytes_total=sum(ref.size for _, e in manifest.entries() for ref in e.chunks))
            copied = storage.push(ctx.blobs, shared, manifest, lambda n: _advance_unless_cancelled(rec, n))
            rec.check_cancelled()  # a cancel from here on would come after the target may have begun
            with ArchiveReader(ctx.blobs, manifest) as reader:
                info = read_info(reader)
            storage.publish(shared, str(params.dup_id), storage.Published(manifest_id=manifest.archive_id, info=info))
        rec.set_result(manifestId=manifest.archive_id, chunksSynced=copied)
    except Cancelled:
        storage.mark_cancelled(shared, str(params.dup_id))  # the target side ends cancelled too
        raise


def run_import(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    params = DuplicationParams.model_validate(op.params).resolved(op.id)
    with rec.step(SYNC_IN_STEP):
        rec.phase("sync_in")
        if params.manifest_id is not None:  # a restoration: the package was imported on upload
            manifest = load_manifest(ctx.blobs, params.manifest_id)
        else:
            manifest = _sync_in(ctx, rec, params, _storage(ctx, op, params))
        with ArchiveReader(ctx.blobs, manifest) as reader:
            read_info(reader)  # a package this server reads, before anything is changed
        # Only now the content lock (the kind is not exclusive): waiting for the source, and
        # pulling chunks that gc's grace keeps, change no content, so a restore, clone or
        # maintenance here is not refused for the hour a source may take. A restore holding it
        # now is waited for, still import_syncing and cancellable.
        hold_content_lock(ctx, rec, op.id, ctx.settings.duplication_sync_timeout_seconds)
    _import(ctx, rec, params, manifest)


def _sync_in(ctx: OperationContext, rec: Recorder, params: DuplicationParams, shared: BlobStore) -> Manifest:

    def source_cancelled() -> None:
        raise Cancelled("the duplication was cancelled on the source environment")

    timeout = ctx.settings.duplication_sync_timeout_seconds
    published = storage.wait_published(shared, str(params.dup_id), timeout, rec.check_cancelled, source_cancelled)
    if published is None:
        raise SyncTimedOut(
            f"the source environment did not publish duplication {params.dup_id} in the storage service "
            f"within {timeout:.0f} s: start it on the source (POST /projectDuplications) with the same storage"
        )
    manifest = load_manifest(shared, published.manifest_id)
    rec.plan(bytes_total=sum(ref.size for _, e in manifest.entries() for ref in e.chunks))
    pulled = storage.pull(shared, ctx.blobs, published.manifest_id, lambda n: _advance_unless_cancelled(rec, n))
    with ctx.db.begin() as conn:
        duplications.update(conn, str(params.dup_id), manifest_id=pulled.archive_id)
    return pulled


def _storage(ctx: OperationContext, op: Operation, params: DuplicationParams) -> BlobStore:
    """The storage service the side was started with: a bucket opens with the access key given to
    the operation (sealed with it), else with the server's own object store key."""
    if not params.storage:
        raise StorageNotConfigured()
    credentials = storage.credentials_of(op.secrets) or ctx.settings.blob_credentials()
    return storage.open_storage(params.storage, credentials)


def _export(ctx: OperationContext, rec: Recorder, params: DuplicationParams) -> Manifest:
    settings = params.parsed_settings()
    project_id = str(params.source["project"]["id"])
    with rec.step(EXPORT_STEP):
        rec.phase("export")
        with ctx.db.snapshot() as conn, ArchiveWriter(ctx.blobs) as writer:
            rec.plan(items_total=count_objects(conn, project_id))

            def on_row() -> None:  # every object read counts, exported or not
                rec.advance(items=1)
                rec.check_cancelled()

            exported = export_project(conn, writer, project_id, settings.export, on_row=on_row)
            project = exported.project
            environment = params.source.get("environment") or {}
            info = PackageInfo(
                package_version=PACKAGE_VERSION,
                envclone_version=__version__,
                environment={"id": str(environment.get("id", "")), "name": str(environment.get("name", ""))},
                project={k: project[k] for k in ("id", "name", "description", "default_locale")},
            )
            write_info(writer, info)
            manifest = writer.finish()
        with ctx.db.begin() as conn:
            duplications.update(conn, str(params.dup_id), manifest_id=manifest.archive_id)
        rec.set_result(
            manifestId=manifest.archive_id,
            objects=exported.objects,
            profileFolders=exported.profile_folders,
            subscriptions=exported.subscriptions,
            configurationObjects=exported.config_objects,
        )
    return manifest


def _import(ctx: OperationContext, rec: Recorder, params: DuplicationParams, manifest: Manifest) -> None:
    settings = params.parsed_settings().import_
    target = params.target_side()
    project_id = str(params.target_project_id)
    name = str(target.project.name)
    done: list[Imported] = []

    def hook(tx: Applying) -> None:
        done.append(
            import_project(
                tx.conn,
                tx.reader,
                settings,
                project_id=project_id,
                name=name,
                types_match_by_name=list(settings.types_match_by_name),
                on_bytes=tx.advance,
            )
        )

    apply_archive(
        ctx,
        rec,
        ArchiveApply(
            manifest_id=manifest.archive_id,
            components=(Component.ARTIFACTS, Component.CONFIGURATION),
            digests={},  # a new project: nothing here has the package's content to compare with
            step=IMPORT_STEP,
            changed_meanwhile="the environment changed while the import started; nothing was changed",
        ),
        hook,
    )
    imported = done[0]
    rec.set_result(
        targetProjectId=project_id,
        importedObjects=imported.objects,
        configurationInserted=imported.config_inserted,
        configurationUpdated=imported.config_updated,
        renamedLogins=imported.renamed,
    )


def _advance_unless_cancelled(rec: Recorder, nbytes: int) -> None:
    rec.advance(nbytes=nbytes)
    rec.check_cancelled()
