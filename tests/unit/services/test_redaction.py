"""What a reader who may not run migrations sees of an operation: names of peers and people
hidden in parameters, step details and errors; everything else, and administrators' view, as is."""

from __future__ import annotations

from envclone.domain.operation import Operation, OperationStatus, Step, StepResult
from envclone.domain.principal import Principal
from envclone.services._redaction import HIDDEN, for_reader

URL = "https://peer.example:8443/env"


def operation() -> Operation:
    return Operation(
        id="A" * 32,
        kind="cloneEnvironment",
        status=OperationStatus.FAILED,
        params={
            "target_url": URL,
            "target_user": "bob",
            "options": {"migrateUsers": True},
            "source": {"environment": {"id": "https://lib.example"}, "project": {"name": "Sales"}},
            "target_name": "2026-01-01T00:00:00_Artifact_Snapshot.zip",
            "snapshot_name": "Artifact Snapshot",
        },
        steps=[Step("Login to target environment", StepResult.FAILED, details=f"cannot reach {URL}")],
        error_message=f"cannot reach the target environment at {URL}",
        created_by="alice",
        secrets={"target_password": "s3cret"},
    )


def test_a_viewer_sees_no_peer_or_person() -> None:
    seen = for_reader(Principal.of("val", {"Viewer"}), operation())
    assert seen.params == {
        "target_url": HIDDEN,
        "target_user": HIDDEN,
        "options": {"migrateUsers": True},
        "source": {"environment": {"id": HIDDEN}, "project": {"name": HIDDEN}},
        "target_name": "2026-01-01T00:00:00_Artifact_Snapshot.zip",
        "snapshot_name": "Artifact Snapshot",
    }
    assert seen.created_by == HIDDEN and seen.secrets == {}
    assert seen.error_message == f"cannot reach the target environment at {HIDDEN}"
    assert seen.steps[0].details == f"cannot reach {HIDDEN}" and seen.steps[0].result is StepResult.FAILED


def test_the_original_is_not_changed_and_administrators_see_it_whole() -> None:
    op = operation()
    for_reader(Principal.of("val", {"Viewer"}), op)
    assert op.params["target_url"] == URL and op.steps[0].details == f"cannot reach {URL}"
    assert for_reader(Principal.of("sam", {"Service Administrator"}), op) is op
    assert for_reader(Principal.of("mia", {"Migrations - Administer"}), op) is op
