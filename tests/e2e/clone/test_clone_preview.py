"""A clone's dry run (``POST /v1/clone/preview`` and ``envclone cloneEnvironment --dry-run``) and
its change report, between two real servers on SQLite and on PostgreSQL: a preview changes nothing
on either end (not even an Artifact Snapshot on a source that has none); it fails, with a message
and a non-zero exit, when the clone would; records (audit, job console, data management) are
compared row by row in the preview and in the report; object lists say what they left out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import RECORD_KINDS, make_environment, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, free_port
from tests.e2e.client import digests, ok, operation_ids, wait_operation
from tests.e2e.clone import LOGIN, VALIDATE
from tests.e2e.clone.test_clone_cli import Run, envclone
from tests.e2e.conftest import TARGET_PASSWORD, ServerPair, Servers

JOBS = "jobConsole"
CHANGES = ("created", "replaced", "removed")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ends(request: pytest.FixtureRequest, servers: Servers) -> ServerPair:
    """A source with the demo content and no snapshot yet, and a target with content of its own."""
    source = servers.start(request.param, demo=True)
    target = servers.start(request.param, password=TARGET_PASSWORD)
    pair = ServerPair(source, target, source.client(), target.client(ADMIN, TARGET_PASSWORD))
    servers.clients += [pair.src, pair.tgt]
    make_environment(pair.tgt)
    return pair


def body(pair: ServerPair, password: str = TARGET_PASSWORD, url: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"target_url": url or pair.target.url, "target_user": ADMIN, "target_password": password, **extra}


def dry_run(pair: ServerPair, *extra: str, password: str = TARGET_PASSWORD, url: str | None = None) -> Run:
    target = (f"TARGET_USERNAME={ADMIN}", f"TARGET_PASSWORD={password}", f"TARGET_URL={url or pair.target.url}")
    return envclone(
        "cloneEnvironment", *target, "--url", pair.source.url, "-u", ADMIN, "-p", ADMIN_PASSWORD, "--dry-run", *extra
    )


def blob_files(server: LiveServer) -> dict[str, int]:
    root = server.data_dir / "blobs"
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@dataclass(frozen=True)
class Both:
    """Everything a dry run must leave as it was, on both ends."""

    digests: tuple[dict[str, str], dict[str, str]]
    backups: tuple[Any, Any]
    blobs: tuple[dict[str, int], dict[str, int]]
    operations: tuple[set[str], set[str]]


def both(pair: ServerPair) -> Both:
    return Both(
        (digests(pair.src), digests(pair.tgt)),
        (ok(pair.src.get("/v1/backups")), ok(pair.tgt.get("/v1/backups"))),
        (blob_files(pair.source), blob_files(pair.target)),
        (operation_ids(pair.src), operation_ids(pair.tgt)),
    )


def counts(change: dict[str, Any]) -> tuple[int, int, int, int]:
    return change["created"], change["replaced"], change["removed"], change["unchanged"]


def add_jobs(pair: ServerPair, n: int) -> str:
    mark = f"added-{tag()}"
    items = [{"actor": "admin", "action": mark, "subject": f"job-{i}", "status": "ok"} for i in range(n)]
    assert pair.src.post(f"/v1/records/{JOBS}", json={"items": items}).status_code == 201
    return mark


def clone(pair: ServerPair) -> dict[str, Any]:
    op = wait_operation(pair.src, ok(pair.src.post("/v1/clone", json=body(pair)), 202)["id"], deadline=120)
    assert op["status"] == "succeeded", op
    return op


# --- runs first: the source has no Artifact Snapshot yet ----------------------------------------------
def test_a_preview_on_a_source_without_a_snapshot_takes_none_and_changes_nothing(ends: ServerPair) -> None:
    before = both(ends)
    assert before.backups[0]["items"] == [], before.backups[0]

    preview = ok(ends.src.post("/v1/clone/preview", json=body(ends)))
    run = dry_run(ends)
    assert both(ends) == before

    assert preview["ok"] is True and preview["problem"] is None, preview
    assert preview["takes_snapshot"] is True and preview["backupName"] is None, preview
    assert preview["bytes_to_send"] > 0 and preview["chunks_to_send"] == preview["chunks"] > 0, preview
    assert run.code == 0, run.raw
    assert "the clone would take one first (this dry run took none)" in run.out, run.raw


def test_object_lists_say_how_many_they_left_out(ends: ServerPair) -> None:
    preview = ok(ends.src.post("/v1/clone/preview", json=body(ends)))
    records = preview["components"]["dataManagement"]
    assert records["created"] > 200 and len(records["objects"]["created"]) == 200, records
    assert records["truncated"] == {"created": records["created"] - 200, "replaced": 0, "removed": 0}, records
    for change in preview["components"].values():
        for what in CHANGES:
            assert len(change["objects"][what]) + change["truncated"][what] == change[what], change
    small = ok(ends.src.post("/v1/clone/preview", json=body(ends, list_limit=1)))["components"]["artifacts"]
    assert len(small["objects"]["created"]) == 1 and small["truncated"]["created"] == small["created"] - 1, small

    run = dry_run(ends, "--objects", "1")
    assert run.code == 0, run.raw
    left_out = records["created"] - 1
    assert f"dataManagement created ({records['created']:,}):" in run.out, run.raw
    assert f"... and {left_out:,} more, not listed" in run.out, run.raw


@pytest.mark.parametrize("failure", ["wrong password", "unreachable target"])
def test_a_preview_that_cannot_reach_or_log_in_fails_with_a_message(ends: ServerPair, failure: str) -> None:
    wrong, url = f"Wrong-{tag()}", None
    expected = f"login to the target environment as {ADMIN} failed"
    if failure == "unreachable target":
        wrong, url = TARGET_PASSWORD, f"http://127.0.0.1:{free_port()}"
        expected = f"cannot reach the target environment at {url}"
    before = both(ends)

    run = dry_run(ends, password=wrong, url=url)
    assert run.code == 1, run.raw
    assert f"fails {LOGIN}: {expected}" in run.out and f"the clone would fail: {expected}" in run.out, run.raw
    assert "would send" not in run.out and "component" not in run.out, run.raw
    assert wrong not in run.raw

    preview = ok(ends.src.post("/v1/clone/preview", json=body(ends, wrong, url)))
    assert preview["ok"] is False and preview["problem"] == expected, preview
    assert [(c["check"], c["ok"]) for c in preview["checks"]] == [(VALIDATE, True), (LOGIN, False)], preview
    assert preview["components"] == {} and "bytes_to_send" not in preview, preview

    assert both(ends) == before


# --- then a clone, and records compared row by row ------------------------------------------------------
def test_records_the_target_already_holds_are_unchanged_in_the_preview(ends: ServerPair) -> None:
    clone(ends)
    before = both(ends)
    preview = ok(ends.src.post("/v1/clone/preview", json=body(ends)))
    for name, change in preview["components"].items():
        assert counts(change) == (0, 0, 0, change["before"]) and change["before"] == change["after"], (name, change)
    assert preview["ok"] is True and preview["takes_snapshot"] is False, preview
    assert (preview["bytes_to_send"], preview["chunks_to_send"]) == (0, 0), preview
    for name in RECORD_KINDS:
        assert preview["components"][name]["unchanged"] > 0, preview["components"][name]
    assert both(ends) == before


def test_two_added_job_console_records_are_reported_as_two_created(ends: ServerPair) -> None:
    clone(ends)  # the target holds what the source holds, whichever tests ran before (or none)
    held = ok(ends.src.post("/v1/clone/preview", json=body(ends)))["components"][JOBS]["after"]
    mark = add_jobs(ends, 2)

    preview = ok(ends.src.post("/v1/clone/preview", json=body(ends)))["components"]
    assert counts(preview[JOBS]) == (2, 0, 0, held), preview[JOBS]
    assert all(mark in key for key in preview[JOBS]["objects"]["created"]), preview[JOBS]
    for name in set(RECORD_KINDS) - {JOBS}:
        assert counts(preview[name])[:3] == (0, 0, 0), (name, preview[name])

    op = clone(ends)
    assert op["result"]["changes"][JOBS] == {
        "before": held, "after": held + 2, "created": 2, "replaced": 0, "removed": 0, "unchanged": held
    }, op["result"]["changes"]
    report = ok(ends.src.get(f"/v1/clone/{op['id']}/report"))
    assert counts(report[JOBS]) == (2, 0, 0, held), report[JOBS]
    assert len(report[JOBS]["objects"]["created"]) == 2, report[JOBS]
    assert sorted(report[JOBS]["objects"]["created"]) == sorted(preview[JOBS]["objects"]["created"])
    for name in set(RECORD_KINDS) - {JOBS}:
        assert counts(report[name]) == (0, 0, 0, report[name]["before"]), (name, report[name])
    assert digests(ends.tgt)[JOBS] == digests(ends.src)[JOBS]


def test_the_dry_run_prints_the_row_by_row_counts(ends: ServerPair) -> None:
    clone(ends)  # the target holds what the source holds, whichever tests ran before (or none)
    held = ok(ends.src.post("/v1/clone/preview", json=body(ends)))["components"][JOBS]["after"]
    add_jobs(ends, 2)
    run = dry_run(ends)
    assert run.code == 0, run.raw
    assert re.search(rf"{JOBS}\s*│\s*2\s*│\s*0\s*│\s*0\s*│\s*{held:,}\s*│", run.raw), run.raw
