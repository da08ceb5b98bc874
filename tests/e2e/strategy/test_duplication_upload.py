"""A restoration upload (multipart, POST /restoration or PUT {id}) is refused before its body is
read: without a session (401 ERR009), by a Viewer (403 FORBIDDEN), or declaring more than
ENVCLONE_MAX_PACKAGE_BYTES (413), the refusal arrives while the client has sent only the first
64 KiB of a body that declares 1 GiB (or more): nothing more was there to spool. Before, a Viewer's
upload was read and spooled to disk whole and only then refused."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from envclone.settings import Settings
from tests.builders import make_user
from tests.e2e.conftest import Servers
from tests.e2e.partial_body import partial_request
from tests.e2e.strategy.duplication import Library, start_library
from tests.e2e.strategy.library import API, login, strategy_error

BOUNDARY = "envclone-upload-boundary"
SENT = 64 * 1024  # what the client sends of the package before it waits
DECLARED = 1024**3  # what it says it will send


@pytest.fixture(scope="module")
def lib(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    yield from start_library(servers, tmp_path_factory.mktemp("storage-service"))


def body_start() -> bytes:
    """The metadata part whole, then the head of the file part and the first bytes of the package."""
    metadata = '{"target": {"environment": {"id": "x", "name": "X"}, "project": {"name": "Uploaded"}}}'
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.projdup\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"\0" * SENT


def partial_upload(lib: Library, method: str, path: str, token: str | None, declared: int = DECLARED) -> httpx.Response:
    """The head and ``body_start`` of a body declaring ``declared`` bytes; the answer."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if token:
        headers["X-MSTR-AuthToken"] = token
    return partial_request(lib.target, method, API + path, headers, declared, body_start())


# A fixed id (no such duplication): test ids must be the same in every collecting process (xdist).
PATHS = [("POST", "/projectDuplications/restoration"), ("PUT", "/projectDuplications/0123456789abcdef0123456789abcdef")]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_a_viewers_upload_is_refused_before_its_body_is_read(lib: Library, method: str, path: str) -> None:
    viewer, password = make_user(lib.tgt_admin, "Viewer")
    token = login(lib.target, viewer, password, application_type=None)
    body = strategy_error(partial_upload(lib, method, path, token), 403, "FORBIDDEN")
    assert password not in str(body)


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_an_upload_without_a_session_is_refused_before_its_body_is_read(lib: Library, method: str, path: str) -> None:
    strategy_error(partial_upload(lib, method, path, None), 401, "ERR009")


def test_an_administrators_upload_declaring_too_much_is_refused_before_its_body_is_read(lib: Library) -> None:
    token = login(lib.target, application_type=None)
    too_much = Settings.model_fields["max_package_bytes"].default + 1
    response = partial_upload(lib, "POST", "/projectDuplications/restoration", token, declared=too_much)
    assert "max_package_bytes" in str(strategy_error(response, 413, "INVALID_REQUEST")["message"])
