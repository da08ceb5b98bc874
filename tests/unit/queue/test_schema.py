"""procrastinate's schema at start-up, on a real PostgreSQL database: created when missing; an
older one (built from procrastinate's own migration scripts, as a database made by an older
version has it) brought up to the installed version, once, however many processes start at once;
a migration that removes what older workers call (a post migration) waits while a worker beats."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from procrastinate import App, SyncPsycopgConnector

from envclone.queue import conninfo
from envclone.queue.schema import (
    RECORD,
    SchemaChange,
    _run_script,
    install_schema,
    installed_version,
    is_post,
    migrations_path,
    scripts,
)
from envclone.server import build_context
from envclone.settings import load_settings
from envclone.store.database import Database
from tests.conftest import ADMIN_PASSWORD, PgDatabases

pytestmark = pytest.mark.postgres
KEY = "a-shared-sealing-key-of-enough-length-0002"
OLD = (3, 3, 0)  # a procrastinate before 3.4 (which added a procedure and a post migration)

MIGRATIONS = migrations_path()


@pytest.fixture
def db(pg_databases: PgDatabases) -> Iterator[Database]:
    database = Database(pg_databases.create())
    yield database
    database.dispose()


def build_old(db: Database, up_to: tuple[int, int, int] = OLD) -> None:
    """The schema a database made with procrastinate ``up_to`` has: its scripts in order."""
    for name in scripts(MIGRATIONS, up_to):
        with db.begin() as conn:
            _run_script(conn, (MIGRATIONS / name).read_text())


def recorded(db: Database) -> set[str]:
    with db.read() as conn:
        return {row[0] for row in conn.execute(sa.text(f"SELECT name FROM {RECORD}"))}


def exists(db: Database, probe: str) -> bool:
    with db.read() as conn:
        return conn.execute(sa.text(probe)).scalar() is not None


def defer_and_list(db: Database) -> int:
    """procrastinate itself on the schema: a job deferred, then listed (its SQL functions run)."""
    app = App(connector=SyncPsycopgConnector(conninfo=conninfo(db.url)))

    @app.task(name="probe")
    def probe() -> None: ...

    with app.open():
        probe.defer()
        return len(list(app.job_manager.list_jobs(task="probe")))


def test_a_missing_schema_is_created_and_recorded_at_the_installed_version(db: Database) -> None:
    change = install_schema(db)
    assert change.created and change.applied == []
    assert recorded(db) == set(scripts(MIGRATIONS, installed_version()))
    assert install_schema(db) == SchemaChange()  # nothing left to do
    assert defer_and_list(db) == 1


def test_an_older_schema_is_upgraded_with_the_scripts_it_lacks(db: Database) -> None:
    build_old(db)
    assert not exists(db, "SELECT to_regproc('procrastinate_retry_job_v2')")
    change = install_schema(db)
    assert not change.created and change.deferred == []
    newer = [name for name in scripts(MIGRATIONS, installed_version()) if name not in scripts(MIGRATIONS, OLD)]
    assert newer and set(newer) <= set(change.applied)
    assert exists(db, "SELECT to_regproc('procrastinate_retry_job_v2')")
    assert recorded(db) == set(scripts(MIGRATIONS, installed_version()))
    assert install_schema(db) == SchemaChange()
    assert defer_and_list(db) == 1


def test_processes_starting_at_once_upgrade_once(db: Database) -> None:
    build_old(db)
    results: list[SchemaChange] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        own = Database(db.url)  # a process of its own: its own connections
        try:
            barrier.wait()
            results.append(install_schema(own))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    applied = [name for result in results for name in result.applied]
    assert len(results) == 4 and len(applied) == len(set(applied)) and applied  # each script once
    assert exists(db, "SELECT to_regproc('procrastinate_retry_job_v2')")


def test_a_post_migration_waits_while_a_worker_beats(db: Database) -> None:
    build_old(db)
    with db.begin() as conn:  # a live worker, maybe of the older version
        conn.execute(sa.text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now())"))
    change = install_schema(db)
    posts = [name for name in change.deferred if is_post(name)]
    assert posts and change.deferred == posts  # the pre migrations ran; only post ones wait
    assert any(not is_post(name) for name in change.applied)
    assert exists(db, "SELECT to_regproc('procrastinate_retry_job_v2')")  # 3.4's pre migration
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM procrastinate_workers"))
    later = install_schema(db)
    assert later.applied == posts and later.deferred == []
    assert recorded(db) == set(scripts(MIGRATIONS, installed_version()))


def test_a_schema_made_before_the_record_existed_is_read_from_its_objects(db: Database) -> None:
    install_schema(db)
    with db.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {RECORD}"))
    assert install_schema(db) == SchemaChange()  # read as current: nothing run again
    assert recorded(db) == set(scripts(MIGRATIONS, installed_version()))


def test_a_worker_and_an_api_process_starting_on_an_older_schema_upgrade_it(db: Database, tmp_path: Path) -> None:
    """What `envclone worker` and `serve --workers 0` build at start-up, on a database whose
    procrastinate schema an older version made (and the envclone tables already migrated)."""
    db.migrate()
    build_old(db)
    made = []
    for name, worker in (("worker", True), ("api", False)):
        settings = load_settings(
            data_dir=tmp_path / name,
            database_url=db.url,
            secret_key=KEY,
            admin_password=ADMIN_PASSWORD,
            workers=None if worker else 0,
        )
        ctx, _ = build_context(settings, worker=worker)
        made.append(ctx)
    try:
        assert exists(db, "SELECT to_regproc('procrastinate_retry_job_v2')")
        assert recorded(db) == set(scripts(MIGRATIONS, installed_version()))
    finally:
        for ctx in made:
            ctx.engine.shutdown(wait=False)
            ctx.db.dispose()
