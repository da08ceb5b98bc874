"""EPM files and snapshots (/applicationsnapshots) and Restore Backup over real HTTP, on SQLite and
PostgreSQL: Oracle's list and details shapes, a 120 MiB chunked upload streamed back byte for
byte, package uploads landing as LCM snapshots, the Artifact Snapshot exported as a valid package,
every refused request in Oracle's error shape with nothing changed, and a backup copied in."""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from envclone.archive import read_package_manifest
from tests.builders import make_user, tag
from tests.conftest import LiveServer
from tests.e2e.client import FILES, PREFIX, epm_error, ok, upload, wait_job

MIB = 1024 * 1024
ARTIFACT = "Artifact Snapshot"


def q(**values: Any) -> dict[str, str]:
    return {"q": json.dumps(values)}


def listing(http: httpx.Client) -> dict[str, dict[str, Any]]:
    body = ok(http.get(FILES))
    assert body["status"] == 0 and body["details"] is None
    assert body["links"][0]["rel"] == "self"
    return {item["name"]: item for item in body["items"]}


def download(http: httpx.Client, name: str) -> tuple[httpx.Headers, bytes]:
    response = http.get(f"{FILES}/{quote(name, safe='')}/contents")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    return response.headers, response.content


@pytest.fixture(scope="module")
def admin(http: httpx.Client) -> httpx.Client:
    """The module server's admin, after one daily maintenance run (so that there are backups)."""
    body = ok(http.post(f"{PREFIX}/v2/maintenance/rundailymaintenance", json={"skipNext": False}))
    assert wait_job(http, body["links"][0]["href"])["status"] == 0
    return http


def test_list_shape_lcm_and_external(admin: httpx.Client) -> None:
    inbox, outbox = f"in-{tag()}.csv", f"out-{tag()}.csv"
    ok(admin.put(f"/v1/files/inbox/{inbox}", content=b"a,b\n1,2\n"), 201)
    ok(admin.put(f"/v1/files/outbox/{outbox}", content=b"x" * 18), 201)
    items = listing(admin)
    assert items[ARTIFACT]["type"] == "LCM"
    # Oracle leaves size and time null for LCM snapshots; envclone gives them: the size is exactly
    # what a download writes.
    assert int(items[ARTIFACT]["size"]) == len(download(admin, ARTIFACT)[1])
    assert abs(int(items[ARTIFACT]["lastmodifiedtime"]) / 1000 - time.time()) < 3600
    assert items[inbox]["type"] == "EXTERNAL" and items[inbox]["size"] == "8"
    assert items[f"outbox/{outbox}"]["size"] == "18" and outbox not in items
    millis = int(items[inbox]["lastmodifiedtime"])
    assert abs(millis / 1000 - time.time()) < 600
    details = ok(admin.get(f"{FILES}/{quote('outbox/' + outbox, safe='')}"))
    assert details["items"][0]["type"] == "EXTERNAL" and details["items"][0]["candownload"] is True
    assert {link["rel"] for link in details["links"]} >= {"self", "download", "delete"}
    assert download(admin, f"outbox/{outbox}")[1] == b"x" * 18
    ok(admin.delete(f"{FILES}/{quote('outbox/' + outbox, safe='')}"))
    ok(admin.delete(f"{FILES}/{inbox}"))
    assert inbox not in listing(admin) and f"outbox/{outbox}" not in listing(admin)


def _chunks(seed: int, sizes: list[int]) -> Iterator[bytes]:
    rng = random.Random(seed)
    for size in sizes:
        yield rng.randbytes(size)


def test_chunked_upload_of_120_mib_round_trips(admin: httpx.Client) -> None:
    name, sizes = f"big-{tag()}.dat", [50 * MIB, 50 * MIB, 20 * MIB]
    total, sent = sum(sizes), hashlib.sha256()
    for i, chunk in enumerate(_chunks(7, sizes)):
        sent.update(chunk)
        params = q(isFirst=i == 0, isLast=i == len(sizes) - 1, chunkSize=len(chunk), fileSize=total)
        ok(admin.post(f"{FILES}/{name}/contents", params=params, content=chunk))
        if i < len(sizes) - 1:
            assert name not in listing(admin), "nothing is visible before the last chunk"
    item = listing(admin)[name]
    assert item["type"] == "EXTERNAL" and item["size"] == str(total)
    got = hashlib.sha256()
    with admin.stream("GET", f"{FILES}/{name}/contents") as response:
        assert response.status_code == 200 and response.headers["content-length"] == str(total)
        for block in response.iter_bytes():
            got.update(block)
    assert got.hexdigest() == sent.hexdigest()
    ok(admin.delete(f"{FILES}/{name}"))
    epm_error(admin.get(f"{FILES}/{name}"), 404)


def test_artifact_snapshot_download_is_a_package_and_uploads_as_lcm(admin: httpx.Client) -> None:
    headers, package = download(admin, ARTIFACT)
    assert headers["fileextension"] == "zip" and "content-length" not in headers
    manifest = read_package_manifest(io.BytesIO(package))
    assert "artifacts" in {component for component, _ in manifest.entries()}
    name = f"snap-{tag()}"
    ok(upload(admin, name, package))
    listed = listing(admin)[name]
    assert listed["type"] == "LCM" and listed["size"] == str(len(package))
    details = ok(admin.get(f"{FILES}/{name}"))
    assert details["status"] == 0 and details["items"][0]["type"] == "LCM"
    assert download(admin, name)[1] == package
    assert admin.get(f"/v1/files/snapshots/{name}").content == package, "a file of the snapshots area"
    ok(admin.delete(f"{FILES}/{name}"))
    assert name not in listing(admin)


def test_restarted_upload_and_extdirpath(admin: httpx.Client) -> None:
    name = f"restart-{tag()}.txt"
    ok(admin.post(f"{FILES}/{name}/contents", params=q(isFirst=True, isLast=False), content=b"old"))
    ok(admin.post(f"{FILES}/{name}/contents", params=q(isFirst=True, isLast=False), content=b"new-"))
    ok(admin.post(f"{FILES}/{name}/contents", params={"q": "{isFirst:false,isLast:true}"}, content=b"end"))
    assert download(admin, name)[1] == b"new-end"
    ok(admin.delete(f"{FILES}/{name}"))
    package = download(admin, ARTIFACT)[1]
    ok(upload(admin, name, package, extDirPath="inbox"))
    assert listing(admin)[name]["type"] == "EXTERNAL", "extDirPath=inbox keeps a package in the inbox"
    ok(admin.delete(f"{FILES}/{name}"))


def test_refused_requests_change_nothing(admin: httpx.Client, live_server: LiveServer) -> None:
    existing = f"exists-{tag()}.csv"
    ok(upload(admin, existing, b"1,2\n"))
    before = listing(admin)
    name, url = f"bad-{tag()}.csv", f"{FILES}/bad-{tag()}.csv/contents"
    epm_error(admin.post(url, content=b"x"), 400)  # no q
    epm_error(admin.post(url, params={"q": "{isFirst:"}, content=b"x"), 400)
    epm_error(admin.post(url, params=q(isFirst="maybe", isLast=True), content=b"x"), 422)
    epm_error(admin.post(url, params=q(isFirst=True, isLast=True, chunkSize=50 * MIB + 1), content=b"x"), 413)
    big = b"\0" * (50 * MIB + 1)
    epm_error(admin.post(url, params=q(isFirst=True, isLast=True), content=big), 413)
    epm_error(admin.post(url, params=q(isFirst=False, isLast=True), content=b"x"), 422)
    epm_error(admin.post(url, params=q(isFirst=True, isLast=True, chunkSize=5), content=b"x"), 422)
    epm_error(admin.post(url, params=q(isFirst=True, isLast=True, fileSize=5), content=b"x"), 422)
    ok(admin.post(url, params=q(isFirst=True, isLast=False, fileSize=4), content=b"ab"))
    epm_error(admin.post(url, params=q(isFirst=False, isLast=True), content=b"c"), 422)
    epm_error(admin.post(url, params=q(isFirst=True, isLast=True, extDirPath="elsewhere"), content=b"x"), 422)
    epm_error(upload(admin, ARTIFACT, b"x"), 422)
    epm_error(upload(admin, "../escape.csv", b"x"), 400)
    epm_error(upload(admin, existing, b"other"), 409)
    for response in (
        admin.get(f"{FILES}/{name}"),
        admin.get(f"{FILES}/{name}/contents"),
        admin.delete(f"{FILES}/{name}"),
        admin.get(f"{FILES}/{quote('outbox/' + name, safe='')}"),
    ):
        epm_error(response, 404)
    epm_error(admin.delete(f"{FILES}/{quote(ARTIFACT)}"), 409)
    with live_server.anonymous() as anon:
        epm_error(anon.get(FILES), 401)
    viewer = make_user(admin, "Viewer")
    with live_server.client(*viewer) as http:
        assert ARTIFACT in listing(http)
        epm_error(upload(http, name, b"x"), 403)
        epm_error(http.get(f"{FILES}/{quote(ARTIFACT)}/contents"), 403)
        epm_error(http.delete(f"{FILES}/{existing}"), 403)
    assert listing(admin) == before
    ok(admin.delete(f"{FILES}/{existing}"))


def test_restore_backup_copies_a_backup_in(admin: httpx.Client) -> None:
    backups = ok(admin.get("/interop/rest/v2/backups/list"))["items"]
    snapshot = next(b for b in backups if b.endswith("/Artifact_Snapshot.zip"))
    environment = next(b for b in backups if b.endswith("/Environment_Backup"))
    started = ok(admin.post("/interop/rest/v2/backups/restore", json={"backupName": snapshot}))
    assert started["status"] == -1 and started["details"] is None and started["items"] is None
    link = started["links"][0]
    assert link["rel"] == "Job Status" and link["action"] == "GET"
    assert "/interop/rest/v2/backups/restore/status/" in link["href"]
    done = wait_job(admin, link["href"])
    default_name = snapshot.replace("/", "_")
    assert done["status"] == 0, done
    assert done["items"] == [{"backupName": snapshot, "targetName": default_name}]
    op = ok(admin.get(f"/v1/operations/{link['href'].rsplit('/', 1)[1]}"))
    assert op["kind"] == "restoreBackup" and op["steps"][0]["key"] == "Copying backup into the environment"
    assert op["progress"]["bytes_done"] == op["progress"]["bytes_total"] > 0
    assert listing(admin)[default_name]["type"] == "LCM"
    copied = download(admin, default_name)[1]
    assert copied == download(admin, ARTIFACT)[1], "the latest Artifact Snapshot, byte for byte"
    read_package_manifest(io.BytesIO(copied))
    epm_error(admin.post("/interop/rest/v2/backups/restore", json={"backupName": snapshot}), 409)

    target = f"env-{tag()}"
    body = {"backupName": environment, "parameters": {"targetName": target}}
    done = wait_job(admin, ok(admin.post("/interop/rest/v2/backups/restore", json=body))["links"][0]["href"])
    assert done["status"] == 0 and listing(admin)[target]["type"] == "LCM"
    top = f"top-{tag()}"
    body = {"backupName": environment, "targetName": top}
    wait_job(admin, ok(admin.post("/interop/rest/v2/backups/restore", json=body))["links"][0]["href"])
    manifest = read_package_manifest(io.BytesIO(download(admin, top)[1]))
    assert "files" in {component for component, _ in manifest.entries()}

    before = listing(admin)
    epm_error(admin.post("/interop/rest/v2/backups/restore", json={"backupName": "1999-01-01T00:00:00/X"}), 404)
    epm_error(admin.post("/interop/rest/v2/backups/restore", json={}), 422)
    epm_error(admin.get("/interop/rest/v2/backups/restore/status/99999"), 404)
    epm_error(admin.get("/interop/rest/v2/backups/restore/status/abc"), 422)
    assert listing(admin) == before
    for name in (default_name, target, top):
        ok(admin.delete(f"{FILES}/{quote(name, safe='')}"))
