"""A disk that fills up while an archive is written: the blob store on a small tmpfs (mounted for
the test; we run as root), on SQLite and PostgreSQL. Daily maintenance then fails saying the disk
is full, every status read still answers, no backup that names a half-written archive appears,
the environment is unchanged by digest, and once there is room the same maintenance succeeds and
its backup verifies. The same for a clone's target whose disk fills as it receives and applies."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import make_environment, tag
from tests.conftest import ADMIN, BACKENDS, database_url
from tests.e2e.client import digest, ok
from tests.e2e.crash import Node, nothing_open, wait_ended

DISK = "8m"
FILE_BYTES = 1536 * 1024  # random: neither compression nor deduplication makes room
FILES = 3  # about 4.5 MB of file contents, which a backup must copy into its chunks


def _mount(path: Path, size: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )


@pytest.fixture(params=BACKENDS)
def small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Node]:
    """A node whose blob store is an 8 MB tmpfs; unmounted at the end."""
    blobs = tmp_path / "data" / "blobs"
    blobs.mkdir(parents=True)
    mounted = _mount(blobs, DISK)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (mounting needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    node = Node(tmp_path / "data", database_url(request.param, tmp_path, request))
    try:
        yield node
    finally:
        node.stop()
        subprocess.run(["umount", str(blobs)], check=True)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def verify(http: httpx.Client, backup: str) -> bool:
    op = wait_ended(http, ok(http.post(f"/v1/backups/{backup}/verify"), 202)["id"])
    return bool(op["status"] == "succeeded" and op["result"]["ok"] is True)


def test_a_disk_full_while_a_backup_is_written(small_disk: Node) -> None:
    node = small_disk.start()
    blobs = node.data_dir / "blobs"
    with node.client() as http:
        make_environment(http)
        for _ in range(FILES):
            ok(http.put(f"/v1/files/inbox/big-{tag()}.bin", content=os.urandom(FILE_BYTES)), 201)
        before = digest(http)
        assert ok(http.get("/v1/backups"))["items"] == []
        assert free_bytes(blobs) < FILES * FILE_BYTES, "the disk would not fill: the test would prove nothing"

        op = wait_ended(http, ok(http.post("/v1/maintenance/run"), 202)["id"])
        assert op["status"] == "failed", op
        assert op["error"]["code"] == "disk_full", op["error"]
        assert "no space left" in op["error"]["message"], op["error"]
        assert not any(s["result"] == "inProgress" for s in op["steps"]), op["steps"]
        # Every read answers; nothing names the half-written archive (the Artifact Snapshot taken
        # first, with no file contents, fitted and is whole); nothing changed.
        listed = ok(http.get("/v1/backups"))["items"]
        assert [b["kind"] for b in listed] == ["artifact_snapshot"], listed
        assert verify(http, listed[0]["name"])
        assert ok(http.get("/v1/operations"))["total"] >= 1
        assert ok(http.get(f"/v1/operations/{op['number']}"))["id"] == op["id"]
        assert digest(http) == before
        nothing_open(http)

        # Room again (the disk grown, as an operator would free space): the same maintenance runs.
        grown = subprocess.run(["mount", "-o", "remount,size=64m", str(blobs)], capture_output=True, text=True)
        assert grown.returncode == 0, grown.stderr
        op = wait_ended(http, ok(http.post("/v1/maintenance/run"), 202)["id"])
        assert op["status"] == "succeeded", op
        backup = op["result"]["environmentBackup"]
        assert verify(http, backup)
        assert digest(http)["components"] == before["components"]
    node.stop()
    assert "Traceback" not in node.log(), node.log()[-3000:]


def test_a_clone_target_whose_disk_fills(small_disk: Node, tmp_path: Path) -> None:
    """The target's disk fills while it receives and applies a clone: the clone fails saying so,
    the target is unchanged by digest, and with room again the same clone succeeds."""
    target = small_disk.start()
    source = Node(tmp_path / "source", f"sqlite:///{tmp_path / 'source.db'}").start()
    try:
        with source.client() as src, target.client() as tgt:
            make_environment(src)
            for _ in range(FILES + 2):  # the target must hold their chunks and then their contents
                ok(src.put(f"/v1/files/inbox/big-{tag()}.bin", content=os.urandom(FILE_BYTES)), 201)
            make_environment(tgt)
            before = digest(tgt)
            body = {"target_url": target.url, "target_user": ADMIN, "target_password": source.password}
            body["options"] = {"storedSnapshotsAndFiles": True}

            op = wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])
            assert op["status"] == "failed", op
            assert "no space left" in op["error"]["message"], op["error"]
            assert "blobs" not in op["error"]["message"], op["error"]  # the target's paths stay its own
            assert digest(tgt) == before
            nothing_open(src)
            nothing_open(tgt)

            grown = subprocess.run(["mount", "-o", "remount,size=64m", str(target.data_dir / "blobs")])
            assert grown.returncode == 0
            op = wait_ended(src, ok(src.post("/v1/clone", json=body), 202)["id"])
            assert op["status"] == "succeeded", op
            assert digest(tgt)["components"]["files"] == digest(src)["components"]["files"]
    finally:
        source.stop()
    target.stop()
    assert "Traceback" not in target.log(), target.log()[-3000:]
