"""Restore Environment leaves alone what already has the backup's digest, but never a component
whose file contents are missing from the store: restoring then writes them back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from envclone.domain import maintenance, restore
from envclone.domain.archives import ArchiveKind
from envclone.domain.principal import Principal
from envclone.services import files, records
from envclone.services.context import ServiceContext
from envclone.store import archives, tables
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})


def run(ctx: ServiceContext, kind: str, params: dict[str, object]) -> None:
    op = ctx.engine.submit(kind, params, created_by="test")
    done = ctx.engine.wait(op.id, timeout=60)
    assert done.status.value == "succeeded", done.error_message


def record_seqs(ctx: ServiceContext) -> list[int]:
    with ctx.db.read() as conn:
        return [int(s) for (s,) in conn.execute(sa.select(tables.records.c.seq).order_by(tables.records.c.seq))]


def test_restore_skips_what_is_equal_and_repairs_missing_file_contents(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "env")
    up = files.start_upload(ctx, ADMIN, "inbox", "data.csv")
    up.write(b"a,b\n" * 5000)
    row = up.finish()
    records.append(ctx, ADMIN, "jobConsole", [{"ts": dt.datetime(2026, 1, 1), "actor": "ann", "action": "run"}])
    run(ctx, maintenance.KIND, {})
    with ctx.db.read() as conn:
        backup = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
    assert backup is not None
    everything = restore.RestoreRequest(backup_name=backup["name"], users=True, stored_snapshots_and_files=True)

    seqs = record_seqs(ctx)
    run(ctx, restore.KIND, everything.model_dump(mode="json"))
    assert record_seqs(ctx) == seqs  # nothing differed: the records were not rewritten

    content = ctx.blobs.path(f"files/{row['hash']}")  # type: ignore[attr-defined]
    content.unlink()  # a damaged store: the row is there, its content is not
    run(ctx, restore.KIND, everything.model_dump(mode="json"))
    assert content.read_bytes() == b"a,b\n" * 5000
