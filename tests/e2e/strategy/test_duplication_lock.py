"""A cross-environment target waiting for its package refuses nothing on its environment: a daily
maintenance and a restore there are accepted and run to their end meanwhile (they were refused with
a Conflict for up to an hour while the wait held the content lock); once the source's package
appears in the storage service the duplication completes, its statuses in the document's order.

The source exports for real into the shared folder; the test holds back the record it publishes
last (``duplications/<id>.json``, renamed aside and back), which is exactly what a target waits for."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.builders import tag
from tests.e2e.client import ok, run_maintenance, wait_operation
from tests.e2e.conftest import Servers
from tests.e2e.strategy.duplication import (
    DEADLINE,
    STABLE,
    Library,
    check_copied,
    make_project,
    project_named,
    sample,
    start_library,
    wait,
)

ORDER = ["import_syncing", "importing", "completed"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def lib(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Library]:
    """A SQLite source and a target on each backend (the lock is taken by a guarded update there)."""
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"), request.param)


def statuses_until_stable(lib: Library, dup_id: str) -> list[str]:
    """The target's statuses as polled until stable, each change once."""
    seen: list[str] = []
    end = time.monotonic() + DEADLINE
    while not seen or seen[-1] not in STABLE:
        status = ok(lib.tgt.get(f"/projectDuplications/{dup_id}"))["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        assert time.monotonic() < end, seen
        time.sleep(0.02)
    return seen


def test_a_waiting_target_refuses_no_maintenance_or_restore_and_completes_once_published(lib: Library) -> None:
    project, name = make_project(lib.src_admin), f"Patient {tag()}"
    body = sample(lib.env(lib.source), lib.env(lib.target), project, name)
    dup_id = ok(lib.src.post("/projectDuplications", json=body), 201)["id"]
    assert wait(lib.src, dup_id)["status"] == "exported"
    record = lib.shared / "duplications" / f"{dup_id}.json"
    held = record.with_name(f"{dup_id}.held")
    record.rename(held)  # not yet published, as far as the target can see

    assert ok(lib.tgt.put(f"/projectDuplications/{dup_id}", json=body), 201)["status"] == "import_syncing"
    backup = run_maintenance(lib.tgt_admin, lib.target)["environmentBackup"]
    restore = ok(lib.tgt_admin.post("/v1/restore", json={"backup_name": backup}), 202)
    assert wait_operation(lib.tgt_admin, restore["id"])["status"] == "succeeded"
    assert ok(lib.tgt.get(f"/projectDuplications/{dup_id}"))["status"] == "import_syncing"
    assert project_named(lib.tgt_admin, name) is None

    held.rename(record)  # published
    seen = statuses_until_stable(lib, dup_id)
    assert seen[-1] == "completed", seen
    assert seen == [s for s in ORDER if s in seen], seen  # in the document's order, none repeated
    check_copied(lib.src_admin, lib.tgt_admin, project, name)
    # The lock went with the import: the target takes maintenance again at once.
    assert run_maintenance(lib.tgt_admin, lib.target)["environmentBackup"] != backup
