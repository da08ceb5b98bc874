"""The Strategy dialect's spelling of project duplication: a record in the document's shape (dates
with milliseconds and +0000, creators with 32-hex ids, settings echoed), statuses in lower case or
in the SDK's upper case, the list under both keys, the Storage Service without secrets, the error
table, and the bodies a client may send."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi import Request
from mstrio.server.project import ProjectDuplicationStatus
from mstrio.utils.time_helper import DatetimeFormats

from envclone.api.body import validate
from envclone.api.strategy import errors, render, schemas
from envclone.domain.duplication import DuplicationRecord, DuplicationRequest, DuplicationStatus, Role
from envclone.errors import EnvcloneError, InvalidRequest, NotCancellable, NotFound

SOURCE_ENV = {"id": "http://example1.com/MicroStrategyLibrary", "name": "Source Environment"}
TARGET_ENV = {"id": "http://example2.com/MicroStrategyLibrary", "name": "Target Environment"}
SETTINGS = DuplicationRequest.model_validate(
    {
        "source": {"environment": SOURCE_ENV, "project": {"id": "B7CA92F04B9FAE8D941C3E9B7E0CD754", "name": "T"}},
        "target": {"environment": TARGET_ENV, "project": {"name": "Target Project"}},
    }
).settings.model_dump(mode="json", by_alias=True)


def record(status: DuplicationStatus, **changes: Any) -> DuplicationRecord:
    values: dict[str, Any] = {
        "id": "F8F1280022A444C5A10B3445B552E33A",
        "role": Role.SOURCE,
        "operation_id": "op-1",
        "source": {
            "environment": SOURCE_ENV,
            "project": {"id": "B7CA92F04B9FAE8D941C3E9B7E0CD754", "name": "Tutorial"},
            "creator": {"id": "86A002474C1A18F1F92F2B8150A43741", "name": "mstr1"},
        },
        "target": {"environment": TARGET_ENV, "project": {"id": None, "name": "Target Project"}},
        "creator": {"id": "mstr1", "name": "mstr1"},
        "created": dt.datetime(2025, 5, 20, 2, 30, 24, 632_999, tzinfo=dt.UTC),
        "updated": dt.datetime(2025, 5, 20, 4, 34, 57, 748_000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "status": status,
        "progress": 40,
        "message": "",
        "settings": SETTINGS,
    }
    return DuplicationRecord(**(values | changes))


def test_a_record_has_the_documents_shape() -> None:
    shown = render.duplication(record(DuplicationStatus.EXPORTING), upper=False).model_dump(by_alias=True)
    assert set(shown) == {
        "id",
        "source",
        "target",
        "createdDate",
        "lastUpdatedDate",
        "status",
        "progress",
        "message",
        "settings",
    }
    assert shown["createdDate"] == "2025-05-20T02:30:24.632+0000"
    assert shown["lastUpdatedDate"] == "2025-05-20T02:34:57.748+0000"  # moved to UTC
    assert shown["status"] == "exporting" and shown["progress"] == 40
    assert shown["source"]["creator"] == {"id": "86A002474C1A18F1F92F2B8150A43741", "name": "mstr1"}
    # The target side has no creator of its own yet: the record's, with a Strategy id.
    assert shown["target"]["creator"] == {"id": render.user_id("mstr1"), "name": "mstr1"}
    assert shown["target"]["project"] == {"id": None, "name": "Target Project"}
    assert shown["settings"]["import"]["locales"] == [0] and "export" in shown["settings"]


def test_dates_parse_with_mstrio_format() -> None:
    shown = render.strategy_time(dt.datetime(2025, 5, 20, 2, 30, 24, 5_000, tzinfo=dt.UTC))
    assert shown == "2025-05-20T02:30:24.005+0000"
    assert dt.datetime.strptime(shown, DatetimeFormats.FULLDATETIME.value) == dt.datetime(
        2025, 5, 20, 2, 30, 24, 5_000, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("status", list(DuplicationStatus))
def test_every_status_is_lower_by_default_and_the_sdks_enum_in_upper_case(status: DuplicationStatus) -> None:
    assert render.duplication(record(status), upper=False).status == status.value
    upper = render.duplication(record(status), upper=True).status
    assert upper == status.value.upper()
    assert ProjectDuplicationStatus(upper).value == upper


def test_the_list_is_under_both_keys() -> None:
    records = [record(DuplicationStatus.EXPORTED), record(DuplicationStatus.CANCELLED, id="A" * 32)]
    shown = render.duplication_list(records, 7, upper=True).model_dump(by_alias=True)
    assert shown["projectDuplications"] == shown["duplications"]
    assert [d["status"] for d in shown["duplications"]] == ["EXPORTED", "CANCELLED"]
    assert shown["total"] == 7


def test_storage_is_shown_without_secrets() -> None:
    config = {
        "type": "file_system",
        "alias": "shared",
        "location": "/mnt/share",
        "s3Region": None,
        "configured": True,
        "awsSecretKey": "s3cr3t",
    }
    shown = render.storage(config).model_dump(by_alias=True)
    assert shown == {
        "sharedFileStore": {
            "type": "file_system",
            "alias": "shared",
            "location": "/mnt/share",
            "s3Region": None,
            "configured": True,
        }
    }
    assert "s3cr3t" not in str(shown)


def test_a_storage_change_reaches_the_service_with_its_secrets_and_without_configured() -> None:
    body = {
        "sharedFileStore": {
            "type": "S3",
            "location": "bucket",
            "s3Region": "eu-west-1",
            "awsAccessId": "AKIA",
            "awsSecretKey": "s3cr3t",
            "configured": True,
        }
    }
    change = validate(schemas.StorageChange, body)
    assert change.shared_file_store.to_service() == {
        "type": "S3",
        "location": "bucket",
        "s3Region": "eu-west-1",
        "awsAccessId": "AKIA",
        "awsSecretKey": "s3cr3t",
    }
    assert "s3cr3t" not in repr(change)


@pytest.mark.parametrize(
    "body",
    [
        {"sharedFileStore": {"type": "floppy"}},
        {"sharedFileStore": {"type": "file_system", "location": 7}},
        {"sharedFileStore": {"location": "/x"}},
        {"storage": {"type": "file_system"}},
    ],
)
def test_a_bad_storage_body_is_an_invalid_request(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        validate(schemas.StorageChange, body)


def test_a_status_change_takes_only_the_status() -> None:
    assert validate(schemas.StatusChange, {"status": "CANCELLED"}).status == "CANCELLED"
    with pytest.raises(InvalidRequest):
        validate(schemas.StatusChange, {"status": "cancelled", "progress": 3})
    with pytest.raises(InvalidRequest):
        validate(schemas.StatusChange, {})


def _rendered(error: EnvcloneError) -> tuple[int, dict[str, Any]]:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    response = errors.render_error(request, error)
    return response.status_code, json.loads(bytes(response.body))


def _error(code: str, status: int) -> EnvcloneError:
    error = EnvcloneError("why")
    error.code, error.status = code, status
    return error


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("invalid_request", 422, (400, "INVALID_REQUEST")),
        ("forbidden", 403, (403, "FORBIDDEN")),
        ("project_not_found", 404, (404, "PROJECT_NOT_FOUND")),
        ("project_name_exists", 409, (409, "PROJECT_NAME_EXISTS")),
        ("internal_error", 500, (500, "INTERNAL_SERVER_ERROR")),
        ("user_fencing", 403, (403, "USER_FENCING_ENABLED")),
        ("not_cancellable", 409, (409, "DUPLICATION_NOT_CANCELLABLE")),
        ("package_corrupt", 422, (400, "INVALID_PACKAGE")),
        ("incompatible_versions", 400, (400, "INCOMPATIBLE_VERSIONS")),
        ("storage_not_configured", 400, (400, "STORAGE_SERVICE_NOT_CONFIGURED")),
        ("storage_invalid", 400, (400, "STORAGE_SERVICE_INVALID")),
        ("storage_unsupported", 400, (400, "STORAGE_SERVICE_UNSUPPORTED")),
    ],
)
def test_the_error_table(code: str, status: int, expected: tuple[int, str]) -> None:
    got_status, body = _rendered(_error(code, status))
    assert (got_status, body["code"]) == expected
    assert body["message"] == "why" and len(body["ticketId"]) == 32 and body["iServerCode"] is None


def test_any_other_client_mistake_is_an_invalid_request() -> None:
    class OddMistake(InvalidRequest, code="odd_mistake", status=422):
        """Odd."""

    assert _rendered(OddMistake())[0] == 400
    assert _rendered(OddMistake())[1]["code"] == "INVALID_REQUEST"
    assert _rendered(NotCancellable())[1]["code"] == "DUPLICATION_NOT_CANCELLABLE"
    assert _rendered(NotFound())[1]["code"] == "ERR004"
