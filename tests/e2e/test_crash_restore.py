"""A restore killed (SIGKILL, by an armed fault point) before its transaction, just before its
commit and right after it, on SQLite and PostgreSQL: after the restart the environment holds its
old content or the backup's by digest, never a mix, the restore's status says which (failed
"interrupted" or succeeded, natively and as EPM's job status), nothing stays in progress, and the
same restore then runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from envclone.domain.restore import KIND
from envclone.engine import faults
from tests.builders import COMPONENTS, make_environment, tag
from tests.conftest import BACKENDS, database_url
from tests.e2e.client import RESTORE, digests, ok, recorded_digests, run_maintenance
from tests.e2e.crash import Node, nothing_open, operation, wait_ended, which

EVERY = {"users": True, "stored_snapshots_and_files": True, "maintenance_start_time": True}
POINTS = [faults.BEFORE_TRANSACTION, faults.BEFORE_COMMIT, faults.AFTER_COMMIT]


@dataclass
class Restorable:
    node: Node
    backup: str
    recorded: dict[str, str]


@pytest.fixture(scope="module", params=BACKENDS)
def restorable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restorable]:
    """An environment with a little of everything and its Environment Backup (small, so that each
    crash costs little); its server is started by each test."""
    tmp = tmp_path_factory.mktemp(f"crash-restore-{request.param}")
    node = Node(tmp / "data", database_url(request.param, tmp, request)).start()
    with node.client() as http:
        changed(http)
        backup = run_maintenance(http, node.server)["environmentBackup"]  # type: ignore[arg-type]
        recorded = recorded_digests(http, backup)
    yield Restorable(node, backup, recorded)
    node.stop()


def changed(http: httpx.Client) -> None:
    """Every component made to differ from the backup."""
    make_environment(http)
    ok(http.patch("/v1/settings", json={"theme": f"t-{tag()}"}))


@pytest.mark.parametrize("point", POINTS)
def test_restore_killed_around_its_commit(restorable: Restorable, point: str) -> None:
    node, backup = restorable.node, restorable.backup
    node.start(fault=f"{point}:{KIND}")
    with node.client() as http:
        changed(http)
        before = digests(http)
        assert all(before[c] != restorable.recorded[c] for c in COMPONENTS)
        op_id = ok(http.post("/v1/restore", json={"backup_name": backup, **EVERY}), 202)["id"]
    node.died_by_fault()

    node.start()
    with node.client() as http:
        content = which(digests(http), before, restorable.recorded, list(COMPONENTS))
        op = operation(http, op_id)
        if point == faults.AFTER_COMMIT:
            # Committed: the restore made its change, and says so.
            assert content == "new", content
            assert op["status"] == "succeeded" and op["error"] is None, op
            assert op["progress"]["percent"] == 100, op["progress"]
            assert all(s["result"] in ("success", "NA") for s in op["steps"]), op["steps"]
        else:
            assert content == "old", content
            assert (op["status"], op["error"]["code"]) == ("failed", "interrupted"), op
            assert not any(s["result"] == "inProgress" for s in op["steps"]), op["steps"]
        assert op["ended"] is not None
        # EPM's job status reads the same truth.
        job = ok(http.get(f"{RESTORE}/status/{op['number']}"))
        assert (job["status"] == 0) == (content == "new"), job
        nothing_open(http)
        # Nothing holds the content lock: the same restore runs to its end now.
        again = wait_ended(http, ok(http.post("/v1/restore", json={"backup_name": backup, **EVERY}), 202)["id"])
        assert again["status"] == "succeeded", again
        assert digests(http) == restorable.recorded
    node.stop()
    assert "Traceback" not in node.log(), node.log()[-3000:]
    node.data_dir.joinpath("server.log").unlink()  # the next test's server starts a new log
