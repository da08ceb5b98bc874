"""Damaged archives and crashed servers, on SQLite and PostgreSQL, over real HTTP: verify reads every
chunk and names the damaged one; a restore from a damaged backup fails naming the chunk and changes
nothing; a server killed (SIGKILL) in the middle of a restore comes back with the restore failed as
interrupted and the environment either exactly as it was or exactly as the backup, never a mix."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from envclone.archive import load_manifest
from envclone.blobs.local import LocalBlobStore
from tests.builders import COMPONENTS, RECORD_KINDS, seed_directly, tag
from tests.chunk_damage import damaged as damaged_chunk
from tests.conftest import BACKENDS, LiveServer, database_url
from tests.e2e.client import (
    RESTORE,
    RESTORE_STEP,
    completed,
    digests,
    ok,
    poll,
    recorded_digests,
    run_maintenance,
    started,
    wait_operation,
    wait_restore_transaction,
)
from tests.e2e.conftest import seeded_server

BULK_RECORDS = 40_000


def chunks_of(
    server: LiveServer, manifest_id: str, component: str | None = None, entry: str | None = None
) -> list[str]:
    """Chunk ids of an archive, read from its manifest in the server's blob directory."""
    manifest = load_manifest(LocalBlobStore(server.data_dir / "blobs"), manifest_id)
    return [
        ref.id
        for comp, item in manifest.entries()
        if (component is None or comp == component) and (entry is None or item.name == entry)
        for ref in item.chunks
    ]


@contextmanager
def damaged(server: LiveServer, chunk_id: str) -> Iterator[None]:
    """One byte of one stored chunk flipped for the block (inside its pack, the others sound); put
    back afterwards."""
    with damaged_chunk(server.data_dir / "blobs", chunk_id):
        yield


def verify(http: httpx.Client, backup: str) -> dict[str, Any]:
    started_op = ok(http.post(f"/v1/backups/{backup}/verify"), 202)
    assert started_op["kind"] == "verifyBackup" and started_op["parameters"] == {"backup_name": backup}
    return wait_operation(http, started_op["id"])


# --- verify and damaged backups ---------------------------------------------------------------------
@dataclass(frozen=True)
class Env:
    server: LiveServer
    http: httpx.Client
    backup: str
    manifest_id: str


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_server(request, tmp_path_factory, "verify", request.param) as server, server.client() as http:
        backup = run_maintenance(http, server)["environmentBackup"]
        yield Env(server, http, backup, ok(http.get(f"/v1/backups/{backup}"))["manifest_id"])


def test_verify_a_sound_backup(env: Env) -> None:
    http = env.http
    assert ok(http.get(f"/v1/backups/{env.backup}/verify"))["verified"] is None
    op = verify(http, env.backup)
    assert op["status"] == "succeeded" and op["error"] is None, op
    assert op["result"]["ok"] is True and op["result"]["damaged"] == []
    kept = ok(http.get(f"/v1/backups/{env.backup}/verify"))
    assert kept["name"] == env.backup and kept["verified"] is not None
    assert kept["result"] == {"ok": True, "damaged": []}


def test_verify_names_the_damaged_chunk(env: Env) -> None:
    http = env.http
    chunk = chunks_of(env.server, env.manifest_id, "files")[0]
    with damaged(env.server, chunk):
        op = verify(http, env.backup)
        assert op["status"] == "failed", op
        assert op["error"]["code"] == "archive_damaged" and chunk in op["error"]["message"], op["error"]
        assert [d["chunk"] for d in op["result"]["damaged"]] == [chunk]
        kept = ok(http.get(f"/v1/backups/{env.backup}/verify"))
        assert kept["result"]["ok"] is False
        assert [d["chunk"] for d in kept["result"]["damaged"]] == [chunk]
        assert kept["result"]["damaged"][0]["entry"].startswith("files/")
    # Put back, the backup verifies again, and the new result replaces the old one.
    assert verify(http, env.backup)["status"] == "succeeded"
    assert ok(http.get(f"/v1/backups/{env.backup}/verify"))["result"] == {"ok": True, "damaged": []}


def test_verify_of_an_unknown_backup(env: Env) -> None:
    response = env.http.post("/v1/backups/2000-01-01T00:00:00/Environment_Backup/verify")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_restore_from_a_damaged_backup_changes_nothing(env: Env) -> None:
    http, server = env.http, env.server
    recorded = recorded_digests(http, env.backup)
    ok(http.post("/v1/projects", json={"name": f"after-{tag()}"}), 201)
    ok(http.patch("/v1/settings", json={"theme": f"t-{tag()}"}))
    ok(http.post("/v1/records/jobConsole", json={"items": [{"action": "late"}]}), 201)
    before = digests(http)
    assert before != recorded
    chunk = chunks_of(server, env.manifest_id, "artifacts", "metadata_objects.jsonl")[-1]
    with damaged(server, chunk):
        op = verify(http, env.backup)
        assert [d["chunk"] for d in op["result"]["damaged"]] == [chunk]
        assert op["result"]["damaged"][0]["entry"] == "artifacts/metadata_objects.jsonl"

        href, _ = started(ok(http.post(RESTORE, json={"backupName": env.backup})), server)
        final = poll(http, href)
        assert final["status"] > 0 and chunk in final["details"], final
        assert final["intermittentStatus"][0] == {RESTORE_STEP: "Failed"}, final
        assert digests(http) == before
    # Repaired, the same backup restores.
    final = ok(http.get(href))
    assert final["status"] > 0  # a failed job stays failed
    href, _ = started(ok(http.post(RESTORE, json={"backupName": env.backup})), server)
    assert poll(http, href) == completed(users=False, files=False, start_time=True)
    after = digests(http)
    assert {c: after[c] for c in COMPONENTS if c not in ("users", "files")} == {
        c: recorded[c] for c in COMPONENTS if c not in ("users", "files")
    }


# --- a server killed in the middle of a restore -----------------------------------------------------
def add_bulk_records(http: httpx.Client, count: int) -> None:
    """Append many audit records, so that restoring the environment takes seconds, not a moment
    (a medium seed would too, at several times the cost of taking its backup)."""
    items = [{"actor": f"user{i % 97}", "action": "bulk", "subject": f"subject {i}"} for i in range(count)]
    assert ok(http.post("/v1/records/applicationAudit", json={"items": items}), 201) == {"created": count}


@pytest.mark.parametrize("backend", BACKENDS)
def test_server_killed_during_a_restore(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp(f"crash-{backend}")
    url = database_url(backend, tmp, request)
    seed_directly(tmp / "data", url, "small")
    first = LiveServer(tmp / "data", url).start()
    second: LiveServer | None = None
    try:
        with first.client() as http:
            add_bulk_records(http, BULK_RECORDS)
            backup = run_maintenance(http, first)["environmentBackup"]
            recorded = recorded_digests(http, backup)
            ok(http.post("/v1/projects", json={"name": f"after-{tag()}"}), 201)
            ok(http.post("/v1/users", json={"login": f"late-{tag()}"}), 201)
            ok(http.post("/v1/configuration-objects", json={"type": 44, "name": f"late-{tag()}"}), 201)
            ok(http.post("/v1/jobs", json={"name": f"late-{tag()}", "job_type": "Backup"}), 201)
            for kind in RECORD_KINDS:
                ok(http.post(f"/v1/records/{kind}", json={"items": [{"action": f"late-{tag()}"}]}), 201)
            ok(http.put(f"/v1/files/inbox/late-{tag()}.csv", content=os.urandom(4096)), 201)
            ok(http.patch("/v1/settings", json={"theme": f"t-{tag()}"}))
            before = digests(http)
            assert {c for c in COMPONENTS if before[c] != recorded[c]} == set(COMPONENTS)

            every = {"usersAndPreDefinedRoles": True, "storedSnapshotsAndFiles": True}
            href, job = started(ok(http.post(RESTORE, json={"backupName": backup, "parameters": every})), first)
            wait_restore_transaction(http, href, url)
            assert ok(http.get(href))["status"] == -1
        assert first.process is not None
        first.process.kill()
        first.process.wait(30)

        second = LiveServer(tmp / "data", url).start()
        with second.client() as http:
            after = digests(http)
            mixed = {
                c: ("before" if after[c] == before[c] else "backup" if after[c] == recorded[c] else "neither")
                for c in COMPONENTS
            }
            assert after in (before, recorded), f"the environment is a mix after the crash: {mixed}"
            status = ok(http.get(f"{second.url}{RESTORE}/status/{job}"))
            assert status["status"] > 0, f"restore {job} is not final after the restart: {status}"
            assert "interrupted" in status["details"], status
            op = ok(http.get(f"/v1/operations/{job}"))
            assert (op["status"], op["error"]["code"]) == ("failed", "interrupted"), op
            assert op["ended"] is not None and dt.datetime.fromisoformat(op["ended"])
    finally:
        first.stop()
        if second is not None:
            second.stop()
