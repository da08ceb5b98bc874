"""A blob store written one blob per chunk (before pack files were the default) under a server that
restarts with the default layout: every archive stays readable at once, the next daily maintenance
moves its chunks into packs and deletes the blobs, and then every archive still verifies and
restores. Over real HTTP, with the store's files checked on disk."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from envclone.archive.packs import LAYOUT_KEY
from tests.builders import COMPONENTS, seed_directly, tag
from tests.conftest import LiveServer
from tests.e2e.client import RESTORE, completed, digests, ok, poll, recorded_digests, run_maintenance, started
from tests.e2e.test_verify_and_crash import verify


def files_under(root: Path, folder: str) -> list[Path]:
    return sorted(p for p in (root / folder).rglob("*") if p.is_file()) if (root / folder).exists() else []


def sound(http: httpx.Client, backup: str) -> bool:
    """Whether verify read every chunk of the backup and found each whole."""
    result = verify(http, backup)["result"]
    return bool(result["ok"] is True and result["damaged"] == [])


def backups(http: httpx.Client) -> list[str]:
    return [b["name"] for b in ok(http.get("/v1/backups", params={"kind": "environment_backup"}))["items"]]


def test_a_store_of_blobs_moves_into_packs_at_the_next_maintenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'envclone.db'}"
    data = tmp_path / "data"
    with monkeypatch.context() as before_packs:
        before_packs.setenv("ENVCLONE_CHUNK_LAYOUT", "blobs")
        seed_directly(data, url, "small")
    blobs = data / "blobs"

    # Written as every store was before packs: one file per chunk.
    old = LiveServer(data, url, extra_env={"ENVCLONE_CHUNK_LAYOUT": "blobs"}).start()
    try:
        with old.client() as http:
            run_maintenance(http, old)
            ok(http.put(f"/v1/files/inbox/{tag()}.bin", content=os.urandom(300_000)), 201)
            run_maintenance(http, old)
            names = backups(http)
    finally:
        old.stop()
    assert len(names) == 2
    legacy = files_under(blobs, "chunks")
    assert legacy and not files_under(blobs, "packs") and not (blobs / LAYOUT_KEY).exists()

    # The same server started with the default layout.
    new = LiveServer(data, url)
    new.env.pop("ENVCLONE_CHUNK_LAYOUT", None)
    new.start()
    try:
        with new.client() as http:
            assert (blobs / LAYOUT_KEY).exists()
            # Readable before any migration: verify reads blob chunks through the pack store.
            for name in names:
                assert sound(http, name), name
            result = run_maintenance(http, new)
            assert result["chunksMigrated"] >= len(legacy), result
            assert files_under(blobs, "chunks") == [], "every blob chunk moved into a pack"
            assert files_under(blobs, "packs") and files_under(blobs, "index")
            # A second maintenance has nothing left to move.
            assert run_maintenance(http, new)["chunksMigrated"] == 0
            names = backups(http)
            for name in names:
                assert sound(http, name), name
            for name in names:
                recorded = recorded_digests(http, name)
                href, _ = started(ok(http.post(RESTORE, json={"backupName": name})), new)
                assert poll(http, href) == completed(users=False, files=False, start_time=True)
                after = digests(http)
                assert {c: after[c] for c in COMPONENTS if c not in ("users", "files")} == {
                    c: recorded[c] for c in COMPONENTS if c not in ("users", "files")
                }, name
    finally:
        new.stop()
