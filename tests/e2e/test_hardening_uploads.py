"""Every route that takes a large body decides who may send it before reading it: a Viewer's upload
is refused (403, in the dialect's error shape) while the client has sent only the first 64 KiB of a
body declaring 1 GiB, and an administrator's body declaring more than the route takes is refused
(413) on its Content-Length. The image and the peer transfer routes (chunks, manifests) read their
body into memory first and refused only then, before this was fixed; the file and EPM snapshot
uploads already decided first, and are held to it here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.builders import make_user
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import FILES, epm_error, error_of
from tests.e2e.partial_body import partial_request

START = b"\0" * (64 * 1024)
DECLARED = 1024**3
CHUNK_ID = "0" * 64
OCTETS = {"Content-Type": "application/octet-stream"}


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def viewer(sqlite_server: LiveServer) -> Iterator[dict[str, str]]:
    with sqlite_server.client() as admin:
        yield basic(*make_user(admin, "Viewer"))


NATIVE = [
    ("PUT", "/v1/files/inbox/big.bin"),
    ("PUT", "/v1/settings/images/logo"),
    ("PUT", f"/v1/transfer/chunks/{CHUNK_ID}?size=1024"),
    ("POST", "/v1/transfer/chunks"),
    ("PUT", "/v1/transfer/manifests"),
]


@pytest.mark.parametrize(("method", "path"), NATIVE)
def test_a_viewers_native_upload_is_refused_before_its_body_is_read(
    sqlite_server: LiveServer, viewer: dict[str, str], method: str, path: str
) -> None:
    response = partial_request(sqlite_server, method, path, {**viewer, **OCTETS}, DECLARED, START)
    assert error_of(response) == (403, "forbidden"), response.text


def test_a_viewers_epm_snapshot_upload_is_refused_before_its_body_is_read(
    sqlite_server: LiveServer, viewer: dict[str, str]
) -> None:
    q = json.dumps({"isFirst": True, "isLast": True, "chunkSize": DECLARED, "fileSize": DECLARED})
    path = f"{FILES}/big.zip/contents?q={quote(q)}"
    response = partial_request(sqlite_server, "POST", path, {**viewer, **OCTETS}, 40 * 1024 * 1024, START)
    epm_error(response, 403)


@pytest.mark.parametrize(
    ("method", "path", "declared"),
    [
        ("PUT", "/v1/settings/images/logo", 10 * 1024 * 1024 + 1),
        ("PUT", f"/v1/transfer/chunks/{CHUNK_ID}?size=1024", 64 * 1024 * 1024 + 1),
        ("POST", "/v1/transfer/chunks", 16 * 1024 * 1024 + 1),
        ("PUT", "/v1/transfer/manifests", 256 * 1024 * 1024 + 1),
    ],
)
def test_an_administrators_body_declaring_too_much_is_refused_on_its_length(
    sqlite_server: LiveServer, method: str, path: str, declared: int
) -> None:
    response = partial_request(sqlite_server, method, path, {**basic(ADMIN, ADMIN_PASSWORD), **OCTETS}, declared, START)
    assert error_of(response) == (413, "payload_too_large"), response.text


def test_the_routes_still_take_a_whole_body(sqlite_server: LiveServer) -> None:
    with sqlite_server.client() as admin:
        image = admin.put("/v1/settings/images/logo", content=b"\x89PNG small", headers={"Content-Type": "image/png"})
        assert image.status_code == 200, image.text
        assert admin.get("/v1/settings/images/logo").content == b"\x89PNG small"
        # A whole chunk body is read and checked: these bytes are not the chunk the id names.
        assert error_of(admin.put(f"/v1/transfer/chunks/{CHUNK_ID}?size=3", content=b"abc")) == (422, "chunk_corrupt")
