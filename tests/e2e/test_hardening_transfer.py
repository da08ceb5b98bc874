"""What a client sends to a clone's receiving end (/v1/transfer) or as a clone's target URL, when
it is not valid: a client error with a stable code (never a 500), and nothing stored."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import blake3
import httpx
import pytest
import zstandard

from envclone.archive import Algorithms, ChunkRef, ComponentEntries, Entry, EntryKind, Manifest
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode
from envclone.domain.transfer import encode_chunks
from tests.conftest import LiveServer
from tests.e2e.client import PREFIX, epm_error, error_of

JSON = {"content-type": "application/json"}
GOOD_ID = "a" * 64


@pytest.fixture(scope="module")
def http(sqlite_server: LiveServer) -> Iterator[httpx.Client]:
    with sqlite_server.client() as client:
        yield client


def manifest(archive_id: str, chunk_id: str) -> bytes:
    chunker = {"name": "fastcdc", "min_size": 1, "avg_size": 2, "max_size": 4}
    entry = Entry("x.json", EntryKind.RECORDS, (ChunkRef(chunk_id, 3),))
    return Manifest(
        archive_id=archive_id,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        source={"environment": "test"},
        algorithms=Algorithms(chunker=chunker, hash="blake3-256", compression="zstd-3"),
        components=(ComponentEntries("artifacts", (entry,)),),
    ).to_blob()


def deep_manifest() -> bytes:
    return zstandard.ZstdCompressor().compress(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("not-a-manifest", b"not a manifest", "manifest_corrupt"),
        ("empty", b"", "manifest_corrupt"),
        ("zstd-not-json", zstandard.ZstdCompressor().compress(b"hello"), "manifest_corrupt"),
        ("deep-json", deep_manifest(), "manifest_corrupt"),
        ("non-hex-chunk-id", manifest("20260101T000000Z-aaaaaaaaaaaa", "z" * 64), "manifest_corrupt"),
        ("archive-id-path", manifest("../../x", GOOD_ID), "archive_invalid"),
        ("chunks-never-sent", manifest("20260101T000000Z-bbbbbbbbbbbb", GOOD_ID), "archive_invalid"),
    ],
)
def test_a_bad_manifest_is_a_client_error(http: httpx.Client, name: str, body: bytes, code: str) -> None:
    response = http.put("/v1/transfer/manifests", content=body, headers={"content-type": "application/octet-stream"})
    assert error_of(response) == (422, code), f"{name}: {response.text}"


@pytest.mark.parametrize(
    ("chunk_id", "size", "status", "code"),
    [
        ("z" * 64, "3", 422, "invalid_request"),
        ("A" * 64, "3", 422, "invalid_request"),
        ("ab", "3", 422, "invalid_request"),
        (GOOD_ID, "9" * 30, 422, "invalid_request"),
        (GOOD_ID, "9" * 5000, 422, "invalid_request"),
        (GOOD_ID, "3", 422, "chunk_corrupt"),  # the bytes are not the chunk the id names
    ],
)
def test_a_bad_chunk_is_a_client_error(http: httpx.Client, chunk_id: str, size: str, status: int, code: str) -> None:
    response = http.put(f"/v1/transfer/chunks/{chunk_id}", params={"size": size}, content=b"\x00abc")
    assert error_of(response) == (status, code), response.text


@pytest.mark.parametrize("archive_id", ["../../x", "..", "a/b", "x\\y"])
def test_an_apply_of_a_bad_archive_id_is_a_client_error(http: httpx.Client, archive_id: str) -> None:
    response = http.post("/v1/transfer/apply", json={"archive_id": archive_id, "components": ["artifacts"]})
    assert error_of(response) == (422, "archive_invalid"), response.text
    assert http.get("/v1/operations", params={"kind": "applyClone"}).json()["total"] == 0


BAD_URLS = ["http://[::1", "http://[::1]:99999", "http://host:port", "http://exa mple", "http://u:p@host"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_target_url_is_refused(http: httpx.Client, url: str) -> None:
    body = {"target_url": url, "target_user": "admin", "target_password": "secret-1"}
    for path in ("/v1/clone", "/v1/clone/preview"):
        assert error_of(http.post(path, json=body)) == (422, "invalid_request"), path
    epm = {
        "targetURL": url,
        "targetUserName": "admin",
        "targetEncryptPassword": base64.b64encode(b"secret-1").decode(),
    }
    epm_error(http.post(f"{PREFIX}/v1/services/clone", json=epm), 422, 2)
    assert http.get("/v1/operations", params={"kind": "cloneEnvironment"}).json()["total"] == 0


def _batch(*items: tuple[str, int, bytes]) -> bytes:
    return encode_chunks(list(items))


def _good_chunk(data: bytes) -> tuple[str, int, bytes]:
    return blake3.blake3(data).hexdigest(), len(data), encode(data, compression(DEFAULT_COMPRESSION))


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        ("cut-in-a-header", _batch(_good_chunk(b"one"))[:20], 422, "invalid_request"),
        ("cut-in-a-chunk", _batch(_good_chunk(b"two" * 50))[:-2], 422, "invalid_request"),
        ("not-the-chunk-its-id-names", _batch((GOOD_ID, 3, b"\x00abc")), 422, "chunk_corrupt"),
        ("size-too-large", _batch((GOOD_ID, 2**40, b"\x00abc")), 422, "invalid_request"),
    ],
    ids=lambda value: value if isinstance(value, str) and "-" in value else "",
)
def test_a_bad_batch_of_chunks_is_a_client_error(
    http: httpx.Client, name: str, body: bytes, status: int, code: str
) -> None:
    response = http.post("/v1/transfer/chunks", content=body, headers={"content-type": "application/octet-stream"})
    assert error_of(response) == (status, code), f"{name}: {response.text}"


def test_a_batch_of_chunks_is_stored_once(http: httpx.Client) -> None:
    items = [_good_chunk(f"batch chunk {i}".encode() * (i + 1)) for i in range(5)]
    first = http.post("/v1/transfer/chunks", content=_batch(*items))
    assert first.status_code == 201 and first.json() == {"received": 5, "stored": 5}
    again = http.post("/v1/transfer/chunks", content=_batch(*items, _good_chunk(b"one more")))
    assert again.json() == {"received": 6, "stored": 1}
    missing = http.post("/v1/transfer/missing", json={"ids": [cid for cid, _, _ in items]})
    assert missing.json() == {"missing": []}
