"""Migration 0005 rewrites the step results that operation records stored in EPM's spelling, on
SQLite and PostgreSQL, and the engine reads the records back in envclone's words."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from envclone.domain.operation import StepResult
from envclone.store import operations as repo
from envclone.store import tables
from envclone.store.database import HEAD_REVISION, Database
from tests.conftest import BACKENDS, database_url

LEGACY_STEPS = [
    {"key": "Validate", "result": "success", "details": None, "started": None, "ended": None},
    {"key": "Users", "result": "NA", "details": "not selected", "started": None, "ended": None},
    {"key": "Copy", "result": "inProgress", "details": None, "started": None, "ended": None},
    {"key": "Verify", "result": "pending", "details": None, "started": None, "ended": None},
]


def _upgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(resource_files("envclone.store") / "migrations"))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _legacy_row(op_id: str) -> dict[str, Any]:
    return {
        "id": op_id,
        "kind": "cloneEnvironment",
        "status": "failed",
        "params": {},
        "steps": LEGACY_STEPS,
        "progress": {},
        "result": {},
        "created": dt.datetime(2026, 11, 30, 12, 0),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_stored_legacy_step_results_read_in_envclone_words(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(database_url(backend, tmp_path, request))
    _upgrade(db, "0004")
    with db.engine.begin() as conn:
        conn.execute(tables.operations.insert(), [_legacy_row(f"{n:032X}") for n in range(3)])
    db.migrate()
    with db.read() as conn:
        op = repo.load(conn, f"{1:032X}")
        stored = conn.execute(sa.select(tables.operations.c.steps)).scalars().all()
    assert [s.result for s in op.steps] == [
        StepResult.SUCCESS,
        StepResult.NOT_APPLICABLE,
        StepResult.IN_PROGRESS,
        StepResult.PENDING,
    ]
    assert op.steps[1].details == "not selected"
    words = ["success", "not_applicable", "in_progress", "pending"]
    assert [[s["result"] for s in steps] for steps in stored] == [words] * 3
    db.engine.dispose()


def test_the_head_revision_the_start_up_checks_is_alembics() -> None:
    # A schema at HEAD_REVISION is taken as migrated without importing alembic (Database.migrate).
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(resource_files("envclone.store") / "migrations"))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_a_schema_behind_the_head_is_migrated_and_one_at_it_is_left(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'env.db'}")
    _upgrade(db, "0004")
    assert db._revisions() == ["0004"]
    db.migrate()
    assert db._revisions() == [HEAD_REVISION]
    db.migrate()  # at the head: nothing to do
    assert db._revisions() == [HEAD_REVISION] and "operation_secrets" in sa.inspect(db.engine).get_table_names()
