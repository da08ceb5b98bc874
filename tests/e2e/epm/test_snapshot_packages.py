"""Snapshots as files that travel between environments (issue 13, "snapshots"): a downloaded
snapshot is the ZIP file its ``fileextension`` announces (Python's zipfile and ``unzip`` read it)
and uploads and clones again; an Environment Backup uploaded to another environment is restored
there like one of its own (the digests end equal to the backup's); a damaged package is refused
when its upload completes, in Oracle's error shape, with nothing stored."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import BACKENDS, LiveServer
from tests.e2e.client import (
    FILES,
    PREFIX,
    RESTORE,
    completed,
    digests,
    epm_error,
    ok,
    poll,
    recorded_digests,
    started,
    upload,
    wait_job,
)
from tests.e2e.clone import CLONE, check_succeeded, epm_body, poll_status
from tests.e2e.conftest import TARGET_PASSWORD, Servers

ARTIFACT = "Artifact Snapshot"
SNAPSHOT_COMPONENTS = ("artifacts", "configuration", "jobs")


def maintenance(http: httpx.Client) -> list[str]:
    started_ = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance", json={}))
    assert wait_job(http, started_["links"][0]["href"])["status"] == 0
    backups: list[str] = ok(http.get(f"{PREFIX}/v2/backups/list"))["items"]
    return backups


def download(http: httpx.Client, name: str) -> tuple[httpx.Headers, bytes]:
    response = http.get(f"{FILES}/{quote(name, safe='')}/contents")
    assert response.status_code == 200, response.text
    return response.headers, response.content


def listing(http: httpx.Client) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in ok(http.get(FILES))["items"]}


def upload_in_pieces(http: httpx.Client, name: str, data: bytes, pieces: int = 3) -> httpx.Response:
    """A chunked upload as EPM Automate sends it; returns the last chunk's response (the earlier
    ones must be accepted)."""
    size = -(-len(data) // pieces)
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    response: httpx.Response | None = None
    for i, part in enumerate(parts):
        q = {"isFirst": i == 0, "isLast": i == len(parts) - 1, "chunkSize": len(part), "fileSize": len(data)}
        response = http.post(f"{FILES}/{quote(name, safe='')}/contents", params={"q": json.dumps(q)}, content=part)
        if i < len(parts) - 1:
            ok(response)
    assert response is not None
    return response


def check_zip(package: bytes, tmp: Path) -> None:
    """What any ZIP reader sees: the marker, the manifest and the chunks, all stored, all intact."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[:2] == ["envclone-package", "manifest"], names
        assert len(names) > 2 and all(n.startswith("chunks/") and len(n) == 7 + 64 for n in names[2:]), names
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        assert zf.read("envclone-package").startswith(b"envclone archive package")
    if shutil.which("unzip"):
        path = tmp / "snapshot.zip"
        path.write_bytes(package)
        tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr
        listed = subprocess.run(["unzip", "-l", str(path)], capture_output=True, text=True)
        assert listed.returncode == 0 and "manifest" in listed.stdout, listed.stdout + listed.stderr


def clone_from(src: httpx.Client, target: LiveServer, snapshot: str) -> dict[str, Any]:
    ok(src.post(CLONE, json=epm_body(target, TARGET_PASSWORD, {"snapshotName": snapshot})))
    final = poll_status(src)
    check_succeeded(final)
    return final


def stored_state(server: LiveServer) -> set[str]:
    """Every blob and every staged upload file on the server's disk."""
    roots = (server.data_dir / "blobs", server.data_dir / "staging")
    paths = (p for root in roots if root.exists() for p in root.rglob("*"))
    return {str(p.relative_to(server.data_dir)) for p in paths if p.is_file()}


def test_a_downloaded_snapshot_is_a_zip_that_uploads_and_clones(servers: Servers, tmp_path: Path) -> None:
    origin, source = servers.start(demo=True), servers.start()
    target = servers.start(password=TARGET_PASSWORD)
    with origin.client() as a, source.client() as src, target.client(password=TARGET_PASSWORD) as tgt:
        maintenance(a)
        headers, package = download(a, ARTIFACT)
        assert headers["fileextension"] == "zip"
        check_zip(package, tmp_path)

        # uploaded to another environment in pieces, listed as a snapshot, stored as sent
        ok(upload_in_pieces(src, "from-origin.zip", package))
        assert listing(src)["from-origin.zip"]["type"] == "LCM"
        assert download(src, "from-origin.zip")[1] == package
        clone_from(src, target, "from-origin.zip")
        there, theirs = digests(tgt), digests(a)
        assert {c: there[c] for c in SNAPSHOT_COMPONENTS} == {c: theirs[c] for c in SNAPSHOT_COMPONENTS}

        # and back to the environment it came from, then cloned from there
        ok(upload(a, "round-trip.zip", package))
        clone_from(a, target, "round-trip")
        assert {c: digests(tgt)[c] for c in SNAPSHOT_COMPONENTS} == {c: theirs[c] for c in SNAPSHOT_COMPONENTS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_uploaded_environment_backup_is_restored(servers: Servers, tmp_path: Path, backend: str) -> None:
    origin, other = servers.start(demo=True), servers.start(backend)
    with origin.client() as a, other.client() as b:
        backup = sorted(n for n in maintenance(a) if n.endswith("/Environment_Backup"))[-1]
        recorded = recorded_digests(a, backup)
        assert recorded == digests(a)
        body = {"backupName": backup, "targetName": "origin-backup.zip"}
        assert wait_job(a, ok(a.post(f"{PREFIX}/v2/backups/restore", json=body))["links"][0]["href"])["status"] == 0
        _, package = download(a, "origin-backup.zip")
        check_zip(package, tmp_path)

        ok(upload_in_pieces(b, "origin-backup.zip", package))
        assert listing(b)["origin-backup.zip"]["type"] == "LCM"
        assert digests(b) != recorded
        payload = {
            "backupName": "origin-backup",  # the .zip may be left out, as for a clone's snapshotName
            "parameters": {"usersAndPreDefinedRoles": True, "storedSnapshotsAndFiles": True},
        }
        href, _ = started(ok(b.post(RESTORE, json=payload)), other)
        assert poll(b, href) == completed(users=True, files=True, start_time=True)
        assert digests(b) == recorded, "the other environment now holds exactly what the backup held"

        # an uploaded Artifact Snapshot is not an Environment Backup: refused before anything starts
        _, snapshot = download(a, ARTIFACT)
        ok(upload(b, "just-a-snapshot.zip", snapshot))
        before = digests(b)
        details = epm_error(b.post(RESTORE, json={"backupName": "just-a-snapshot.zip"}), 404, 8)
        assert "not an Environment Backup" in details, details
        assert digests(b) == before

    # a backup of another service type is refused before anything starts
    elsewhere = servers.start(env={"ENVCLONE_SERVICE_TYPE": "FreeForm"})
    with elsewhere.client() as c:
        ok(upload(c, "origin-backup.zip", package))
        before = digests(c)
        details = epm_error(c.post(RESTORE, json={"backupName": "origin-backup.zip"}), 422, 2)
        assert "Planning" in details and "FreeForm" in details, details
        assert digests(c) == before


def _damaged(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        last = zf.infolist()[-1]
    start = last.header_offset + 30 + len(last.filename)
    flipped = bytearray(package)
    flipped[start + last.file_size // 2] ^= 0x01
    central = bytearray(package)
    central[package.rindex(b"PK\x01\x02") + 16] ^= 0x01  # the last central record's CRC-32
    return {
        "a chunk's content": bytes(flipped),
        "its end cut off": package[:-100],
        "its central directory": bytes(central),
        "bytes after its end": package + b"\n",
    }


def test_the_native_snapshots_area_refuses_a_damaged_package_too(servers: Servers) -> None:
    """``PUT /v1/files/snapshots/{name}`` is a second way in: it checks packages as the EPM
    upload does, so that nothing damaged waits there for its first clone or restore."""
    server = servers.start(demo=True)
    with server.client() as http:
        maintenance(http)
        _, package = download(http, ARTIFACT)
        stored = stored_state(server)
        for damage, data in _damaged(package).items():
            answer = http.put("/v1/files/snapshots/native.zip", content=data)
            assert answer.status_code == 422, (damage, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "package_corrupt", (damage, error)
            assert "native.zip is not a valid snapshot package and was not stored" in error["message"]
            assert http.get("/v1/files/snapshots/native.zip").status_code == 404, damage
            assert stored_state(server) == stored, damage
        ok(http.put("/v1/files/snapshots/native.zip", content=package), 201)
        assert listing(http)["native.zip"]["type"] == "LCM"


def test_a_damaged_package_is_refused_at_upload_with_nothing_stored(servers: Servers) -> None:
    server = servers.start(demo=True)
    with server.client() as http:
        maintenance(http)
        _, package = download(http, ARTIFACT)
        before, stored = listing(http), stored_state(server)
        for damage, data in _damaged(package).items():
            details = epm_error(upload_in_pieces(http, "damaged.zip", data), 422, 15)
            assert "damaged.zip is not a valid snapshot package and was not stored" in details, (damage, details)
            assert listing(http) == before, damage
            epm_error(http.get(f"{FILES}/damaged.zip"), 404)
            assert stored_state(server) == stored, damage
        first = _damaged(package)["a chunk's content"]
        details = epm_error(upload(http, "damaged.zip", first), 422, 15)
        assert "chunk" in details, details
        # the name is free: the intact package goes in under it
        ok(upload_in_pieces(http, "damaged.zip", package))
        assert listing(http)["damaged.zip"]["type"] == "LCM"
