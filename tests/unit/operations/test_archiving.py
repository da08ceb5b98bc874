"""Daily archives re-read only what changed: after one small file changed, every other bundle of
small files is taken from the previous archive by name, and restoring the new archive elsewhere
gives the same files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from envclone.archive import ArchiveReader
from envclone.auth.principal import Principal
from envclone.content.apply import entry_names, opener
from envclone.content.bundle import is_bundle
from envclone.content.replace import restore_blobs
from envclone.domain.components import Component
from envclone.operations import catalog as archives
from envclone.operations.archiving import Written, write_archive
from envclone.server import build_context
from envclone.services import files
from envclone.services.context import ServiceContext
from envclone.settings import load_settings

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})
FILES = 600


def make_env(path: Path) -> ServiceContext:
    ctx, _ = build_context(load_settings(data_dir=path, admin_password="pw-123456", scheduler=False))
    return ctx


def upload(ctx: ServiceContext, name: str, data: bytes) -> None:
    up = files.start_upload(ctx, ADMIN, "inbox", name)
    up.write(data)
    up.finish()


def archive(ctx: ServiceContext, second: int) -> Written:
    created = dt.datetime(2026, 1, 1, 0, 0, second)
    with ctx.db.snapshot() as conn:
        return write_archive(ctx, conn, archives.ENVIRONMENT_BACKUP, [Component.FILES], created, lambda _n: None)


def test_one_changed_file_rereads_one_or_two_bundles(tmp_path: Path) -> None:
    ctx = make_env(tmp_path / "env")
    for i in range(FILES):
        upload(ctx, f"record-{i}.json", f'{{"id": {i}, "body": "{"x" * (i % 97)}"}}'.encode() * 20)
    first = archive(ctx, 0)
    bundles = [e.name for _, e in first.manifest.entries() if is_bundle(e.name)]
    assert len(bundles) > 100  # bucketed, not one bundle

    upload(ctx, "record-7.json", b'{"id": 7, "edited": true}')
    second = archive(ctx, 1)
    new_bundles = {e.name for _, e in second.manifest.entries() if is_bundle(e.name)}
    assert 1 <= len(new_bundles - set(bundles)) <= 2
    bundle_bytes = sum(e.size for _, e in second.manifest.entries() if is_bundle(e.name))
    assert second.reused >= bundle_bytes - 2 * max(e.size for _, e in second.manifest.entries() if is_bundle(e.name))

    # the reused entries are whole: another store gets every file back from the new archive
    target = make_env(tmp_path / "target")
    with ArchiveReader(ctx.blobs, second.manifest) as reader:
        restore_blobs(target.blobs, entry_names(reader, Component.FILES), opener(reader, Component.FILES))
    with ctx.db.read() as conn:
        hashes = {h for (h,) in conn.exec_driver_sql("SELECT DISTINCT hash FROM files")}
    assert len(hashes) == FILES
    assert all(target.blobs.exists(f"files/{h}") for h in hashes)
