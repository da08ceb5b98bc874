"""Restoring an uploaded package: a file that is not a package, a damaged package and an envclone
package that holds no project are refused with a clear error, and nothing is recorded or changed;
a package from a newer envclone is refused by version; the versions a target reports."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from envclone.archive import ArchiveWriter, export_archive, list_archives, manifest_key
from envclone.domain.duplication import DuplicationStatus, RestorationRequest
from envclone.errors import EnvcloneError
from envclone.operations.duplicate import package as package_format
from envclone.services import duplications
from envclone.services.context import ServiceContext
from envclone.store import duplications as repo
from envclone.store import tables
from tests.unit.duplicate._content import ADMIN, environment, request, rows, seed

METADATA = RestorationRequest.model_validate(
    {"target": {"environment": {"id": "http://b.example.com", "name": "B"}, "project": {"name": "Restored"}}}
)


def exported_package(ctx: ServiceContext, tmp_path: Path) -> bytes:
    """A real package: a local duplication's archive, exported as a .projdup file."""
    started = duplications.start(ctx, ADMIN, request("Scratch"))
    ctx.engine.wait(started.operation_id, timeout=60)
    with ctx.db.read() as conn:
        manifest_id = (repo.find(conn, started.id) or {})["manifest_id"]
    out = io.BytesIO()
    export_archive(ctx.blobs, str(manifest_id), out)
    return out.getvalue()


def unchanged(ctx: ServiceContext, before: tuple[object, ...]) -> bool:
    return snapshot(ctx) == before


def snapshot(ctx: ServiceContext) -> tuple[object, ...]:
    listed, total = duplications.list_records(ctx, ADMIN, 0, 100)
    return ([r.id for r in listed], total, rows(ctx, tables.projects), list_archives(ctx.blobs))


@pytest.fixture
def target(tmp_path: Path) -> ServiceContext:
    return environment(tmp_path / "target")


def test_a_file_that_is_not_a_package_changes_nothing(target: ServiceContext) -> None:
    before = snapshot(target)
    for junk in (b"", b"hello, this is not a package", b"PK\x03\x04" + bytes(200)):
        with pytest.raises(EnvcloneError) as caught:
            duplications.restore(target, ADMIN, io.BytesIO(junk), METADATA)
        assert caught.value.status in (400, 422), caught.value
        assert unchanged(target, before)


def test_a_damaged_package_changes_nothing(target: ServiceContext, tmp_path: Path) -> None:
    source = environment(tmp_path / "source")
    seed(source)
    data = bytearray(exported_package(source, tmp_path))
    before = snapshot(target)
    for where in (len(data) // 2, len(data) - 30, 200):
        damaged = bytearray(data)
        damaged[where] ^= 0xFF
        with pytest.raises(EnvcloneError) as caught:
            duplications.restore(target, ADMIN, io.BytesIO(bytes(damaged)), METADATA)
        assert (caught.value.code, caught.value.status) == ("package_corrupt", 422), caught.value
        assert unchanged(target, before)
    with pytest.raises(EnvcloneError) as caught:  # cut short
        duplications.restore(target, ADMIN, io.BytesIO(bytes(data[: len(data) // 3])), METADATA)
    assert caught.value.code == "package_corrupt"
    assert unchanged(target, before)
    restored = duplications.restore(target, ADMIN, io.BytesIO(bytes(data)), METADATA)  # the whole one works
    target.engine.wait(restored.operation_id, timeout=60)
    assert duplications.get(target, ADMIN, restored.id).status is DuplicationStatus.COMPLETED


def test_an_envclone_package_without_a_project_is_refused(target: ServiceContext) -> None:
    with ArchiveWriter(target.blobs) as writer:
        writer.add_bytes("artifacts", "projects.jsonl", b'{"columns":[]}\n')
        manifest = writer.finish()
    out = io.BytesIO()
    export_archive(target.blobs, manifest.archive_id, out)
    target.blobs.delete(manifest_key(manifest.archive_id))
    before = snapshot(target)
    with pytest.raises(EnvcloneError) as caught:
        duplications.restore(target, ADMIN, io.BytesIO(out.getvalue()), METADATA)
    assert (caught.value.code, caught.value.status) == ("package_corrupt", 422)
    assert "not a project duplication package" in caught.value.message
    assert unchanged(target, before)


def test_a_newer_package_version_is_incompatible(target: ServiceContext) -> None:
    reported = duplications.versions(target)
    assert reported["packageVersion"] == package_format.PACKAGE_VERSION
    assert reported["iServerVersion"] >= "11.5.1200"
    duplications.validate_versions(target, reported)
    with pytest.raises(EnvcloneError) as caught:
        duplications.validate_versions(target, {**reported, "packageVersion": package_format.PACKAGE_VERSION + 1})
    assert (caught.value.code, caught.value.status) == ("incompatible_versions", 400)
    with pytest.raises(EnvcloneError) as caught:
        duplications.validate_versions(target, {"packageVersion": "x"})
    assert caught.value.code == "invalid_request"


def test_refusing_a_package_keeps_an_archive_that_was_already_here(target: ServiceContext) -> None:
    with ArchiveWriter(target.blobs) as writer:  # e.g. a backup of this environment, uploaded here
        writer.add_bytes("settings", "settings.jsonl", b'{"columns":[]}\n')
        manifest = writer.finish()
    out = io.BytesIO()
    export_archive(target.blobs, manifest.archive_id, out)
    with pytest.raises(EnvcloneError) as caught:
        duplications.restore(target, ADMIN, io.BytesIO(out.getvalue()), METADATA)
    assert caught.value.code == "package_corrupt"
    assert manifest.archive_id in list_archives(target.blobs)
