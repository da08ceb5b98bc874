"""The archive-applying sequence shared by restore and a clone's target: the caller's hook runs
inside the transaction with only the components that differ, and content that changes between the
first look and the transaction stops the apply before anything is replaced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from envclone.content import apply
from envclone.content.digest import compute_component
from envclone.domain import maintenance
from envclone.domain.archives import ArchiveKind
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.principal import Principal
from envclone.engine import OperationKind, Recorder
from envclone.operations.apply_archive import Applying, ArchiveApply, apply_archive
from envclone.operations.context import OperationContext
from envclone.server import build_context, build_registry
from envclone.services import records
from envclone.services.context import ServiceContext
from envclone.settings import load_settings
from envclone.store import archives

ADMIN = Principal.of("admin", {"Service Administrator"})
KIND, STEP = "testApply", "Applying"
CHOSEN = [Component.ARTIFACTS, Component.JOB_CONSOLE, Component.SETTINGS]
seen: list[list[Component]] = []


def _handler(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    def hook(tx: Applying) -> None:
        seen.append(list(tx.changing))
        tx.replace_all()

    request = ArchiveApply(
        manifest_id=str(op.params["manifest_id"]),
        components=CHOSEN,
        digests=dict(op.params["digests"]),
        step=STEP,
        changed_meanwhile="changed meanwhile",
    )
    apply_archive(ctx, rec, request, hook)


def make_env(path: Path) -> ServiceContext:
    registry = build_registry()
    registry.register(OperationKind(KIND, _handler, (STEP,)))
    ctx, _ = build_context(load_settings(data_dir=path, admin_password="pw-123456", scheduler=False), registry)
    return ctx


def run(ctx: ServiceContext, kind: str, params: dict[str, object]) -> Operation:
    op = ctx.engine.submit(kind, params, created_by="test")
    return ctx.engine.wait(op.id, timeout=60)


def backed_up(ctx: ServiceContext) -> dict[str, object]:
    assert run(ctx, maintenance.KIND, {}).status.value == "succeeded"
    with ctx.db.read() as conn:
        row = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
    assert row is not None
    return {"manifest_id": row["manifest_id"], "digests": row["digests"]}


def add_record(ctx: ServiceContext) -> None:
    records.append(ctx, ADMIN, "jobConsole", [{"ts": dt.datetime(2026, 1, 1), "actor": "ann", "action": "run"}])


def test_the_hook_replaces_only_what_differs_and_the_result_has_the_archive_digest(tmp_path: Path) -> None:
    ctx = make_env(tmp_path / "env")
    backup = backed_up(ctx)
    add_record(ctx)
    seen.clear()
    done = run(ctx, KIND, backup)
    assert done.status.value == "succeeded", done.error_message
    assert seen == [[Component.JOB_CONSOLE]]
    with ctx.db.read() as conn:
        assert compute_component(conn, Component.JOB_CONSOLE) == backup["digests"]["jobConsole"]  # type: ignore[index]


def test_content_changed_meanwhile_stops_before_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_env(tmp_path / "env")
    backup = backed_up(ctx)
    add_record(ctx)
    real, real_put = apply.already_equal, apply.put_blobs
    staged: list[int] = []

    def racing(*args: object, **options: bool) -> set[Component]:
        found = real(*args, **options)  # type: ignore[arg-type]
        return set() if staged else found  # as if an equal component changed once compared

    def put_blobs(*args: object, **options: bool) -> None:
        real_put(*args, **options)  # type: ignore[arg-type]
        staged.append(1)

    monkeypatch.setattr(apply, "already_equal", racing)
    monkeypatch.setattr(apply, "put_blobs", put_blobs)
    seen.clear()
    done = run(ctx, KIND, backup)
    assert done.status.value == "failed"
    assert done.error_message == "changed meanwhile"
    assert seen == []
    with ctx.db.read() as conn:  # nothing was replaced: the added record is still there
        assert compute_component(conn, Component.JOB_CONSOLE) != backup["digests"]["jobConsole"]  # type: ignore[index]
