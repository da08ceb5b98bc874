"""Daily archives re-read only what changed: when only a large file changed, the bundles of small
files are taken from the previous archive by name without reading; when a small file changed only
the few bundles (groups) it left and joined are written again; restoring either archive elsewhere
gives every file back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from envclone.archive import ArchiveReader
from envclone.content.apply import entry_names, opener
from envclone.content.bundle import is_bundle
from envclone.content.restore_blobs import restore_blobs
from envclone.domain.archives import ArchiveKind
from envclone.domain.components import Component
from envclone.domain.principal import Principal
from envclone.operations.archiving import Written, compose, write_archive
from envclone.services import files
from envclone.services.context import ServiceContext
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})
FILES = 600


def upload(ctx: ServiceContext, name: str, data: bytes) -> None:
    up = files.start_upload(ctx, ADMIN, "inbox", name)
    up.write(data)
    up.finish()


def archive(ctx: ServiceContext, second: int) -> Written:
    created = dt.datetime(2026, 1, 1, 0, 0, second)
    with ctx.db.snapshot() as conn:
        return write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, [Component.FILES], created)


def file_hashes(ctx: ServiceContext) -> set[str]:
    with ctx.db.read() as conn:
        return {h for (h,) in conn.exec_driver_sql("SELECT DISTINCT hash FROM files")}


def restores(ctx: ServiceContext, written: Written, target: ServiceContext) -> set[str]:
    with ArchiveReader(ctx.blobs, written.manifest) as reader:
        restore_blobs(target.blobs, entry_names(reader, Component.FILES), opener(reader, Component.FILES))
    return {key.removeprefix("files/") for key in target.blobs.list("files/")}


def bundle_bytes(written: Written) -> int:
    return sum(e.size for _, e in written.manifest.entries() if is_bundle(e.name))


def test_the_bundle_is_reused_unread_until_a_small_file_changes(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "env")
    for i in range(FILES):
        upload(ctx, f"record-{i}.json", f'{{"id": {i}, "body": "{"x" * (i % 97)}"}}'.encode() * 20)
    upload(ctx, "large.bin", bytes(range(256)) * 8192)  # 2 MiB: an entry of its own
    first = archive(ctx, 0)
    assert bundle_bytes(first) > 0 and first.reused == 0

    upload(ctx, "large.bin", bytes(range(255, -1, -1)) * 8192)  # only a large file changed
    second, second_files = archive(ctx, 1), file_hashes(ctx)
    assert second.reused >= bundle_bytes(second) > 0

    upload(ctx, "record-7.json", b'{"id": 7, "edited": true}')  # a small file changed
    third, third_files = archive(ctx, 2), file_hashes(ctx)
    second_bundles = {e.name for _, e in second.manifest.entries() if is_bundle(e.name)}
    third_bundles = {e.name: e.size for _, e in third.manifest.entries() if is_bundle(e.name)}
    rewritten = {name: size for name, size in third_bundles.items() if name not in second_bundles}
    assert 1 <= len(rewritten) <= 4 < len(third_bundles)  # the groups it left and joined, not all
    content_named = sum(e.size for _, e in third.manifest.entries() if is_bundle(e.name) or e.name.startswith("blobs/"))
    assert third.reused == content_named - sum(rewritten.values())

    assert restores(ctx, second, make_context(tmp_path / "target-2")) >= second_files
    assert restores(ctx, third, make_context(tmp_path / "target-3")) >= third_files


def test_a_clone_archive_reuses_the_environment_backup_for_unchanged_files(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "env")
    for i in range(50):
        upload(ctx, f"record-{i}.json", f'{{"id": {i}}}'.encode() * 100)
    upload(ctx, "large.bin", bytes(range(256)) * 8192)
    created = dt.datetime(2026, 1, 1)
    with ctx.db.snapshot() as conn:
        backup = write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, list(Component), created)
        snapshot = write_archive(ctx, conn, ArchiveKind.ARTIFACT_SNAPSHOT, [Component.ARTIFACTS], created)
    files_bytes = sum(e.size for c, e in backup.manifest.entries() if c == Component.FILES.value)
    with ctx.db.snapshot() as conn:
        composed = compose(ctx, conn, snapshot.manifest, {}, [Component.FILES])
    assert composed.reused == files_bytes > 2 * 1024 * 1024  # nothing read again

    upload(ctx, "record-7.json", b"changed")  # files changed: the large file is still reused by name
    with ctx.db.snapshot() as conn:
        composed = compose(ctx, conn, snapshot.manifest, {}, [Component.FILES])
    assert 2 * 1024 * 1024 <= composed.reused < files_bytes
    assert restores(ctx, Written("composed", composed.manifest, 0, 0), make_context(tmp_path / "t")) >= file_hashes(ctx)
