"""Clone from a stored snapshot, as the EPM document allows: "Besides Artifact Snapshot, it can be
any snapshot copied to the source environment". One copied in by restoreBackup (its archive is
still in the catalogue), and one uploaded from another environment (imported, its digests computed
from its content); in both the target ends equal to the snapshot, proved by the clone's own final
digest check and by comparing with the environment the snapshot came from."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.builders import make_environment
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import FILES, PREFIX, digests, epm_error, ok, upload, wait_job
from tests.e2e.clone import CLONE, check_succeeded, epm_body, poll_status
from tests.e2e.conftest import TARGET_PASSWORD, Servers

# What an Artifact Snapshot holds and a clone makes equal (settings keep the target's start time).
SNAPSHOT_COMPONENTS = ("artifacts", "configuration", "jobs")


def client(server: LiveServer, password: str = ADMIN_PASSWORD) -> httpx.Client:
    return server.client(ADMIN, password)


def maintenance(http: httpx.Client) -> None:
    started = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance", json={}))
    assert wait_job(http, started["links"][0]["href"])["status"] == 0


def newest_snapshot(http: httpx.Client) -> str:
    items: list[str] = ok(http.get(f"{PREFIX}/v2/backups/list"))["items"]
    return sorted(b for b in items if b.endswith("/Artifact_Snapshot.zip"))[-1]


def clone_from(source: httpx.Client, target: LiveServer, snapshot: str) -> dict[str, Any]:
    body = epm_body(target, TARGET_PASSWORD, {"snapshotName": snapshot, "migrateUsers": False})
    ok(source.post(CLONE, json=body))
    final = poll_status(source)
    check_succeeded(final)
    return final


def test_clone_from_copied_in_and_uploaded_snapshots(servers: Servers) -> None:
    elsewhere = servers.start()
    source = servers.start()
    target = servers.start(password=TARGET_PASSWORD)
    with client(elsewhere) as other, client(source) as src, client(target, TARGET_PASSWORD) as tgt:
        make_environment(other)
        make_environment(src)
        maintenance(other)
        maintenance(src)
        other_digests = digests(other)

        # from another environment: downloaded there, uploaded here, unknown to this catalogue
        response = other.get(f"{FILES}/{quote('Artifact Snapshot')}/contents")
        assert response.status_code == 200, response.text
        ok(upload(src, "from-elsewhere.zip", response.content))
        final = clone_from(src, target, "from-elsewhere")  # the .zip may be left out
        assert final["backupName"] == "from-elsewhere.zip"
        now = digests(tgt)
        assert {c: now[c] for c in SNAPSHOT_COMPONENTS} == {c: other_digests[c] for c in SNAPSHOT_COMPONENTS}
        assert now["artifacts"] != digests(src)["artifacts"]

        # copied in by restoreBackup from this environment's own backups
        started = ok(src.post(f"{PREFIX}/v2/backups/restore", json={"backupName": newest_snapshot(src)}))
        done = wait_job(src, started["links"][0]["href"])
        assert done["status"] == 0, done
        copied = done["items"][0]["targetName"]
        clone_from(src, target, copied)
        now, own = digests(tgt), digests(src)
        assert {c: now[c] for c in SNAPSHOT_COMPONENTS} == {c: own[c] for c in SNAPSHOT_COMPONENTS}


def test_an_uploaded_file_that_is_not_a_snapshot_is_not_found(servers: Servers) -> None:
    """An upload that is not a snapshot package is an inbox file (EXTERNAL), not a snapshot: naming
    it is refused at once like any unknown snapshot, and nothing starts or changes."""
    source = servers.start()
    target = servers.start(password=TARGET_PASSWORD)
    with client(source) as src, client(target, TARGET_PASSWORD) as tgt:
        before = digests(tgt)
        ok(upload(src, "notes.zip", b"PK\x03\x04 not an envclone snapshot"))
        listed = {item["name"]: item["type"] for item in ok(src.get(FILES))["items"]}
        assert listed["notes.zip"] == "EXTERNAL"
        for name in ("notes.zip", "notes", "missing"):
            details = epm_error(src.post(CLONE, json=epm_body(target, TARGET_PASSWORD, {"snapshotName": name})), 404)
            assert name in details
        assert ok(src.get("/v1/operations", params={"kind": "cloneEnvironment"}))["items"] == []
        assert digests(tgt) == before
