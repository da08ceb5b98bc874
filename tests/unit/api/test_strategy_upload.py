"""Reading a restoration upload (multipart file + metadata): as the SDK sends it, as the document's
curl sample sends it (a JSON content type with a boundary), refused with a clear error when a part
is missing, the metadata is not the restoration's JSON or the body passes the size limit; and the
Strategy session's kind, which decides the status casing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request

from envclone.api.strategy import auth, upload
from envclone.errors import InvalidCredentials, InvalidRequest, MalformedJson, PayloadTooLarge
from envclone.server import build_context
from envclone.services import authentication
from envclone.services.context import ServiceContext
from envclone.settings import load_settings

METADATA = {
    "target": {
        "environment": {"id": "https://demo.microstrategy.com/MicroStrategyLibrary", "name": "Target environment"},
        "project": {"name": "New project name"},
    },
    "settings": {"import": {"defaultLocale": 2052, "locales": [1033, 2052]}},
}
PACKAGE = b"\x00projdup" * 300_000  # 2.4 MB: past the in-memory spool


def _request(headers: dict[str, str], body: bytes, piece: int = 65536) -> Request:
    pieces = [body[i : i + piece] for i in range(0, len(body), piece)] or [b""]

    async def receive() -> dict[str, Any]:
        data = pieces.pop(0) if pieces else b""
        return {"type": "http.request", "body": data, "more_body": bool(pieces)}

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw}, receive)


def _form(*parts: tuple[str, str | None, bytes], disposition: str = "form-data") -> tuple[dict[str, str], bytes]:
    """A multipart body of ``(name, filename or None, content)`` parts."""
    boundary = "envclone-test-boundary"
    body = b""
    for name, filename, content in parts:
        named = f'; filename="{filename}"' if filename is not None else ""
        body += f'--{boundary}\r\nContent-Disposition: {disposition}; name="{name}"{named}\r\n\r\n'.encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return {"content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(len(body))}, body


def _meta(value: Any = METADATA) -> tuple[str, None, bytes]:
    return ("metadata", None, (value if isinstance(value, str) else json.dumps(value)).encode())


def _read(headers: dict[str, str], body: bytes, limit: int = 10**8) -> upload.PackageUpload:
    return asyncio.run(upload.read_upload(_request(headers, body), limit))


def test_the_sdks_upload_is_read_with_the_package_on_disk() -> None:
    received = _read(*_form(("file", "package.projdup", PACKAGE), _meta()))
    try:
        assert received.file.read() == PACKAGE
        assert received.package.file._rolled  # type: ignore[attr-defined]  # spooled past 1 MiB: on disk
        assert received.metadata.target.project.name == "New project name"
        assert received.metadata.settings.import_.locales == [1033, 2052]
    finally:
        asyncio.run(received.close())


def test_the_documents_curl_form_with_a_json_content_type_is_multipart() -> None:
    headers, body = _form(("file", "p.projdup", b"PKG"), _meta(), disposition="attachment")
    curl_headers = {
        **headers,
        "content-type": headers["content-type"].replace("multipart/form-data", "application/json"),
    }
    assert upload.is_multipart(_request(curl_headers, b""))
    received = _read(curl_headers, body)
    assert received.file.read() == b"PKG"
    asyncio.run(received.close())
    assert not upload.is_multipart(_request({"content-type": "application/json"}, b""))


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        ([_meta()], InvalidRequest),
        ([("file", "p.projdup", b"PKG")], InvalidRequest),
        ([("file", None, b"PKG"), _meta()], InvalidRequest),
        ([("file", "p.projdup", b"PKG"), _meta("{not json")], MalformedJson),
        ([("file", "p.projdup", b"PKG"), _meta({"target": {}})], InvalidRequest),
        ([("file", "p.projdup", b"PKG"), ("file", "q.projdup", b"PKG"), _meta()], InvalidRequest),
        ([("file", "p.projdup", b"PKG"), _meta(), ("other", None, b"x")], InvalidRequest),
    ],
)
def test_a_bad_form_is_refused(parts: list[tuple[str, str | None, bytes]], error: type[Exception]) -> None:
    with pytest.raises(error):
        _read(*_form(*parts))


def test_a_body_that_is_not_multipart_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="multipart"):
        _read({"content-type": "application/octet-stream"}, PACKAGE)
    with pytest.raises(InvalidRequest):
        _read({"content-type": "multipart/form-data; boundary=abc"}, b"--abc\r\ngarbage")


def test_a_package_past_the_limit_is_refused_declared_or_streamed() -> None:
    headers, body = _form(("file", "p.projdup", PACKAGE), _meta())
    with pytest.raises(PayloadTooLarge):
        _read(headers, body, limit=len(PACKAGE) // 2)
    streamed = {k: v for k, v in headers.items() if k != "content-length"}
    with pytest.raises(PayloadTooLarge):
        _read(streamed, body, limit=len(PACKAGE) // 2)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    context, _ = build_context(load_settings(data_dir=tmp_path, admin_password="pw-123456", scheduler=False))
    yield context
    context.engine.shutdown()


@pytest.mark.parametrize(("application_type", "kind"), [(None, auth.SESSION_KIND), (8, auth.SESSION_KIND)])
def test_other_clients_open_plain_sessions(application_type: int | None, kind: str) -> None:
    assert auth.session_kind(application_type) == kind


@pytest.mark.parametrize("application_type", [35, 76])
def test_the_sdks_application_types_open_sdk_sessions(ctx: ServiceContext, application_type: int) -> None:
    kind = auth.session_kind(application_type)
    assert kind == auth.SDK_SESSION_KIND
    token, _ = authentication.open_session(ctx, "admin", "pw-123456", kind=kind)
    who, found = authentication.check_session(ctx, token, kinds=auth.SESSION_KINDS)
    assert (who.login, found) == ("admin", auth.SDK_SESSION_KIND)
    with pytest.raises(InvalidCredentials):  # another dialect's kind does not open it
        authentication.check_session(ctx, token, kinds=("bearer",))
