"""The native clone API between two real servers: ``POST /v1/clone/preview`` (a dry run that
predicts per component what the clone will create, replace and remove, and what it will send,
and changes nothing), ``POST /v1/clone`` returning an operation, and the finished clone's change
report, whose counts must be the ones the preview predicted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from envclone.api.native.schemas import ChangeReport, Operation
from tests.builders import COMPONENTS, b64, make_environment, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.e2e.client import digests, ok, operation_ids, wait_operation
from tests.e2e.clone import DOCUMENTED, LOGIN, VALIDATE, clone_ops
from tests.e2e.conftest import TARGET_PASSWORD, ServerPair

COUNTS = ("created", "replaced", "removed", "unchanged")
WITH_FILES = {"storedSnapshotsAndFiles": True}
# The components a Planning clone with stored files carries (users stay: migrateUsers is off).
CARRIED = (
    "artifacts",
    "configuration",
    "jobs",
    "settings",
    "dataManagement",
    "jobConsole",
    "applicationAudit",
    "files",
)


def clone_body(pair: ServerPair, password: str = TARGET_PASSWORD, **extra: Any) -> dict[str, Any]:
    """A native clone request from the pair's source to its target."""
    return {"target_url": pair.target.url, "target_user": ADMIN, "target_password": password, **extra}


def counts(change: dict[str, Any]) -> dict[str, int]:
    return {k: change[k] for k in COUNTS}


def no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text and b64(secret) not in text, f"{secret!r} in {text[:300]}"


def test_preview_predicts_the_clone_and_the_report_confirms_it(pair: ServerPair) -> None:
    make_environment(pair.tgt, start_time="07:30")
    before, source_ops, target_ops = digests(pair.tgt), clone_ops(pair.src), operation_ids(pair.tgt)

    response = pair.src.post("/v1/clone/preview", json=clone_body(pair, options=WITH_FILES))
    preview = ok(response)
    no_secret(response.text, TARGET_PASSWORD)
    assert preview["ok"] is True and preview["problem"] is None, preview
    assert preview["checks"] == [{"check": name, "ok": True, "problem": None} for name in DOCUMENTED[:4]]
    assert set(preview["components"]) == set(CARRIED), preview["components"].keys()
    for name, change in preview["components"].items():
        assert all(isinstance(change[k], int) and change[k] >= 0 for k in COUNTS), (name, change)
    for name in ("artifacts", "configuration", "jobs", "files"):
        change = preview["components"][name]
        assert change["created"] > 0 and change["removed"] > 0, (name, change)  # the target's own goes
        assert set(change["objects"]) == {"created", "replaced", "removed"}
        assert len(change["objects"]["removed"]) == change["removed"], (name, change)
    assert preview["bytes_to_send"] > 0 and 0 < preview["chunks_to_send"] <= preview["chunks"], preview
    assert preview["options"]["storedSnapshotsAndFiles"] is True and preview["options"]["migrateUsers"] is False
    # A dry run: nothing changed on the target, no clone recorded on the source.
    assert digests(pair.tgt) == before
    assert operation_ids(pair.tgt) == target_ops and clone_ops(pair.src) == source_ops

    response = pair.src.post("/v1/clone", json=clone_body(pair, options=WITH_FILES))
    started = ok(response, 202)
    no_secret(response.text, TARGET_PASSWORD)
    assert started["kind"] == "cloneEnvironment" and started["status"] in ("queued", "running"), started
    assert started["parameters"]["target_url"] == pair.target.url and "target_password" not in started["parameters"]
    op = wait_operation(pair.src, started["id"])
    assert op["status"] == "succeeded", op
    for answer in (started, op):  # in the shape /openapi.json declares (the fuzzer starts no clone)
        Operation.model_validate(answer)
    progress = op["progress"]
    assert progress["bytes_total"] > 0 and progress["bytes_done"] == progress["bytes_total"], progress
    assert op["result"]["bytesSent"] > 0 and op["result"]["chunksSent"] == preview["chunks_to_send"], op["result"]

    report = pair.src.get(f"/v1/clone/{op['id']}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("application/json")
    assert op["id"] in report.headers["content-disposition"]
    changes = report.json()
    TypeAdapter(ChangeReport).validate_python(changes)  # the schema /openapi.json declares for it
    assert set(changes) == set(CARRIED)
    for name in CARRIED:
        assert counts(changes[name]) == counts(preview["components"][name]), name
    for name in ("artifacts", "configuration", "jobs", "files"):
        for what in ("created", "replaced", "removed"):
            listed = changes[name]["objects"][what]
            assert len(listed) == changes[name][what], (name, what)
            assert set(preview["components"][name]["objects"][what]) <= set(listed), (name, what)
    assert op["result"]["changes"] == {
        name: {**counts(c), "before": c["before"], "after": c["after"]} for name, c in changes.items()
    }

    after, theirs = digests(pair.tgt), digests(pair.src)
    assert {c: after[c] for c in CARRIED} == {c: theirs[c] for c in CARRIED}
    assert after["users"] == before["users"]


def test_preview_after_a_clone_has_nothing_to_send_or_change(pair: ServerPair) -> None:
    op = ok(pair.src.post("/v1/clone", json=clone_body(pair, options=WITH_FILES)), 202)
    assert wait_operation(pair.src, op["id"])["status"] == "succeeded"
    preview = ok(pair.src.post("/v1/clone/preview", json=clone_body(pair, options=WITH_FILES)))
    assert all(check["ok"] for check in preview["checks"]), preview["checks"]
    assert (preview["bytes_to_send"], preview["chunks_to_send"]) == (0, 0), preview
    for name in CARRIED:  # records too: they are compared row by row
        change = preview["components"][name]
        assert (change["created"], change["replaced"], change["removed"]) == (0, 0, 0), (name, change)
        assert change["unchanged"] == change["after"] == change["before"], (name, change)


def test_preview_with_a_wrong_password_fails_its_login_check(pair: ServerPair) -> None:
    wrong = f"Wrong-{tag()}"
    before, source_ops, target_ops = digests(pair.tgt), operation_ids(pair.src), operation_ids(pair.tgt)
    response = pair.src.post("/v1/clone/preview", json=clone_body(pair, wrong))
    preview = ok(response)
    no_secret(response.text, wrong)
    assert preview["ok"] is False and preview["problem"] == f"login to the target environment as {ADMIN} failed"
    assert [c["check"] for c in preview["checks"]] == [VALIDATE, LOGIN]
    assert preview["checks"][0]["ok"] is True
    login = preview["checks"][1]
    assert login["ok"] is False and ADMIN in login["problem"] and "failed" in login["problem"], login
    assert preview["components"] == {} and "bytes_to_send" not in preview
    assert digests(pair.tgt) == before
    assert operation_ids(pair.src) == source_ops and operation_ids(pair.tgt) == target_ops


def test_native_clone_with_migrate_users_makes_everything_equal(pair: ServerPair) -> None:
    make_environment(pair.tgt)
    options = {"migrateUsers": True, "storedSnapshotsAndFiles": True}
    op = ok(pair.src.post("/v1/clone", json=clone_body(pair, options=options)), 202)
    done = wait_operation(pair.src, op["id"])
    assert done["status"] == "succeeded", done
    # Operation steps come localized, like every operation's.
    french = ok(pair.src.get(f"/v1/operations/{op['id']}", headers={"Accept-Language": "fr"}))
    assert [s["key"] for s in french["steps"]] == [s["key"] for s in done["steps"]]
    assert french["steps"][0]["message"] != done["steps"][0]["message"] and french["locale"].startswith("fr")
    try:
        with pair.target.client(ADMIN, ADMIN_PASSWORD) as tgt:
            assert digests(tgt) == digests(pair.src)
    finally:
        # Give the target's admin its own password back for the tests that follow.
        with pair.target.client(ADMIN, ADMIN_PASSWORD) as tgt:
            ok(tgt.patch(f"/v1/users/{ADMIN}", json={"password": TARGET_PASSWORD}))


@pytest.mark.parametrize(
    "change",
    [
        {"options": {"noSuchOption": True}},
        {"options": {"dataManagement": "sometimes"}},
        {"unexpected": 1},
        {"target_url": "ftp://example.invalid"},
        {"target_user": ""},
        {"list_limit": -1},
    ],
    ids=["unknown option", "option not a boolean", "unknown field", "not an http URL", "empty user", "list_limit < 0"],
)
def test_bad_clone_bodies_start_nothing(pair: ServerPair, change: dict[str, Any]) -> None:
    ops = operation_ids(pair.src)
    for path in ("/v1/clone", "/v1/clone/preview"):
        response = pair.src.post(path, content=json.dumps({**clone_body(pair), **change}))
        assert response.status_code in (400, 422), response.text
        error = response.json()["error"]
        assert error["code"] and error["message"], error
    assert operation_ids(pair.src) == ops


def test_report_of_something_that_is_not_a_finished_clone_is_404(pair: ServerPair) -> None:
    assert pair.src.get(f"/v1/clone/{'0' * 32}/report").status_code == 404
    failed = ok(pair.src.post("/v1/clone", json=clone_body(pair, f"Wrong-{tag()}")), 202)
    assert wait_operation(pair.src, failed["id"])["status"] == "failed"
    assert pair.src.get(f"/v1/clone/{failed['id']}/report").status_code == 404
    assert set(COMPONENTS) >= set(CARRIED)


def _clone_sent(pair: ServerPair) -> tuple[str, dict[str, Any]]:
    """Clone with stored files (composed from the snapshot and the live files) and return the
    archive the target applied, with the finished clone."""
    op = ok(pair.src.post("/v1/clone", json=clone_body(pair, options=WITH_FILES)), 202)
    done = wait_operation(pair.src, op["id"])
    assert done["status"] == "succeeded", done
    applied = ok(pair.tgt.get(f"/v1/operations/{done['result']['targetApply']}"))
    return str(applied["parameters"]["archive_id"]), done


def test_a_clone_again_sends_the_same_archive_until_the_source_changes(pair: ServerPair) -> None:
    """An unchanged source's composed archive is sent again as it is (not composed again); a
    change to a live component makes a new one that carries it."""
    make_environment(pair.src)
    first, _ = _clone_sent(pair)
    again, done = _clone_sent(pair)
    assert again == first
    assert done["result"]["chunksSent"] == 0
    assert all(
        c == {"created": 0, "replaced": 0, "removed": 0} | {"unchanged": c["unchanged"]}
        for c in (counts(v) for v in done["result"]["changes"].values())
    )
    ok(pair.src.put("/v1/files/inbox/changed-since.csv", content=b"Account,Amount\nA,2\n"), 201)
    changed, done = _clone_sent(pair)
    assert changed != first
    assert done["result"]["changes"]["files"]["created"] == 1
    assert digests(pair.tgt)["files"] == digests(pair.src)["files"]
