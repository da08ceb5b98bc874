"""The native status read writes its body itself (api/native/operations.json_response): the same
bytes and headers as FastAPI's own rendering of the same body, whatever the body holds."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from envclone.api.native.operations import json_response, render
from envclone.domain.operation import Operation, OperationStatus, Step
from envclone.locales import translator_for


class Colour(StrEnum):
    RED = "red"


def test_the_same_bytes_as_fastapi() -> None:
    when = dt.datetime(2026, 12, 2, 9, 30, 1, 123456)
    body: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "when": when,
        "day": when.date(),
        "aware": when.replace(tzinfo=dt.UTC),
        "text": "Planification — 計画 \u202e",
        "nested": {"list": [1, 2.5, None, True, {"deep": [when]}], "enum": Colour.RED, 3: "int key"},
        "tuple": (1, "two"),
    }
    fast, standard = json_response(body), JSONResponse(jsonable_encoder(body))
    assert fast.body == standard.body
    assert fast.headers["content-type"] == standard.headers["content-type"]
    assert fast.headers["content-length"] == standard.headers["content-length"]


def test_an_operation_renders_as_before() -> None:
    op = Operation(
        id=uuid.uuid4().hex.upper(),
        kind="clone",
        status=OperationStatus.RUNNING,
        params={"target_url": "http://peer:8080", "options": {"users": True}},
        steps=[Step("Exporting")],
        created=dt.datetime(2026, 12, 2, 9, 0, 0),
        started=dt.datetime(2026, 12, 2, 9, 0, 1),
        created_by="admin",
    )
    body = render(op, translator_for("fr", "en"))
    assert json_response(body).body == JSONResponse(jsonable_encoder(body)).body
