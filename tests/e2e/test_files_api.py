"""Inbox and outbox files over real HTTP, on SQLite and PostgreSQL: streamed upload and download
(one of 64 MiB that neither side of the test holds in memory), overwrite, delete, listing, content
shared between names, and file names that try to leave the flat namespace."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from blake3 import blake3

from tests.builders import tag
from tests.conftest import LiveServer
from tests.e2e.client import digest, error_of, ok

MIB = 1024 * 1024


def blob_path(server: LiveServer, content_hash: str) -> Path:
    return server.data_dir / "blobs" / "files" / content_hash


def all_names(http: httpx.Client, area: str) -> list[str]:
    return [f["name"] for f in ok(http.get(f"/v1/files/{area}", params={"limit": 1000}))["items"]]


@pytest.mark.parametrize("area", ["inbox", "outbox"])
def test_small_round_trip(http: httpx.Client, live_server: LiveServer, area: str) -> None:
    name = f"Plan data {tag()}.csv"  # spaces are fine in a flat name
    content = b"Account,Entity,Amount\n" + os.urandom(5000)
    stored = ok(http.put(f"/v1/files/{area}/{name}", content=content), 201)
    assert {k: stored[k] for k in ("area", "name", "size", "hash")} == {
        "area": area,
        "name": name,
        "size": len(content),
        "hash": blake3(content).hexdigest(),
    }
    got = http.get(f"/v1/files/{area}/{name}")
    assert got.status_code == 200 and got.content == content
    assert got.headers["etag"] == f'"{stored["hash"]}"'
    assert got.headers["content-length"] == str(len(content))
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''" + name.replace(" ", "%20")
    assert blob_path(live_server, stored["hash"]).read_bytes() == content
    assert name in all_names(http, area)
    other = "outbox" if area == "inbox" else "inbox"
    assert error_of(http.get(f"/v1/files/{other}/{name}")) == (404, "not_found")


def test_empty_file(http: httpx.Client) -> None:
    name = f"empty-{tag()}"
    assert ok(http.put(f"/v1/files/inbox/{name}", content=b""), 201)["size"] == 0
    got = http.get(f"/v1/files/inbox/{name}")
    assert (got.status_code, got.content) == (200, b"")


def test_64_mib_streams_both_ways(http: httpx.Client, live_server: LiveServer) -> None:
    name = f"snapshot-{tag()}.zip"
    sent_blake3, sent_sha256 = blake3(), hashlib.sha256()
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(64):
            block = os.urandom(MIB)
            sent_blake3.update(block)
            sent_sha256.update(block)
            sent += len(block)
            yield block

    stored = ok(http.put(f"/v1/files/inbox/{name}", content=body()), 201)
    assert sent == 64 * MIB
    assert (stored["size"], stored["hash"]) == (sent, sent_blake3.hexdigest())

    got_blake3, got_sha256 = blake3(), hashlib.sha256()
    received = 0
    largest_chunk = 0
    with http.stream("GET", f"/v1/files/inbox/{name}") as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(sent)
        assert response.headers["etag"] == f'"{sent_blake3.hexdigest()}"'
        for chunk in response.iter_raw():
            got_blake3.update(chunk)
            got_sha256.update(chunk)
            received += len(chunk)
            largest_chunk = max(largest_chunk, len(chunk))
    assert received == sent
    assert got_sha256.hexdigest() == sent_sha256.hexdigest()
    assert got_blake3.hexdigest() == sent_blake3.hexdigest()
    assert largest_chunk < 16 * MIB  # streamed, not sent as one buffer
    assert blob_path(live_server, stored["hash"]).stat().st_size == sent
    assert http.delete(f"/v1/files/inbox/{name}").status_code == 204
    assert not blob_path(live_server, stored["hash"]).exists()


def test_overwrite_replaces_content_and_drops_the_old_blob(http: httpx.Client, live_server: LiveServer) -> None:
    name = f"rates-{tag()}.txt"
    first = ok(http.put(f"/v1/files/outbox/{name}", content=b"version one"), 201)
    second = ok(http.put(f"/v1/files/outbox/{name}", content=b"version two, longer"), 201)
    assert second["size"] == len(b"version two, longer") and second["hash"] != first["hash"]
    assert http.get(f"/v1/files/outbox/{name}").content == b"version two, longer"
    assert all_names(http, "outbox").count(name) == 1
    listed = ok(http.get("/v1/files/outbox", params={"prefix": name}))["items"]
    assert [(f["size"], f["hash"]) for f in listed] == [(second["size"], second["hash"])]
    assert not blob_path(live_server, first["hash"]).exists()
    assert blob_path(live_server, second["hash"]).exists()


def test_delete(http: httpx.Client, live_server: LiveServer) -> None:
    name = f"old-{tag()}.log"
    stored = ok(http.put(f"/v1/files/inbox/{name}", content=b"bye " + tag().encode()), 201)
    before = digest(http)
    assert http.delete(f"/v1/files/inbox/{name}").status_code == 204
    after = digest(http)
    assert {c for c in after["components"] if after["components"][c] != before["components"][c]} == {"files"}
    assert error_of(http.get(f"/v1/files/inbox/{name}")) == (404, "not_found")
    assert error_of(http.delete(f"/v1/files/inbox/{name}")) == (404, "not_found")
    assert name not in all_names(http, "inbox")
    assert not blob_path(live_server, stored["hash"]).exists()
    assert digest(http) == after


def test_list_with_prefix_and_paging(http: httpx.Client) -> None:
    prefix = f"exp_{tag()}_"
    names = [f"{prefix}{i}.csv" for i in range(5)]
    for name in names:
        ok(http.put(f"/v1/files/outbox/{name}", content=name.encode()), 201)
    # "_" in the prefix is literal, not a wildcard.
    decoy = prefix.replace("_", "X") + "0.csv"
    ok(http.put(f"/v1/files/outbox/{decoy}", content=b"decoy"), 201)
    page = ok(http.get("/v1/files/outbox", params={"prefix": prefix}))
    assert [f["name"] for f in page["items"]] == names and page["total"] == 5
    assert all(f["area"] == "outbox" for f in page["items"])
    paged = ok(http.get("/v1/files/outbox", params={"prefix": prefix, "limit": 2, "offset": 2}))
    assert (paged["total"], [f["name"] for f in paged["items"]]) == (5, names[2:4])
    assert ok(http.get("/v1/files/inbox", params={"prefix": prefix}))["total"] == 0
    assert error_of(http.get("/v1/files/outbox", params={"name": "x"})) == (422, "invalid_request")


def test_same_content_under_two_names(http: httpx.Client, live_server: LiveServer) -> None:
    content = b"shared " + os.urandom(1000)
    a, b = f"a-{tag()}", f"b-{tag()}"
    first = ok(http.put(f"/v1/files/inbox/{a}", content=content), 201)
    second = ok(http.put(f"/v1/files/outbox/{b}", content=content), 201)
    assert first["hash"] == second["hash"]
    assert http.delete(f"/v1/files/inbox/{a}").status_code == 204
    got = http.get(f"/v1/files/outbox/{b}")
    assert (got.status_code, got.content) == (200, content)
    assert blob_path(live_server, first["hash"]).exists()
    # Overwriting the survivor with other content releases the shared blob.
    ok(http.put(f"/v1/files/outbox/{b}", content=b"different"), 201)
    assert not blob_path(live_server, first["hash"]).exists()


def test_unknown_area(http: httpx.Client) -> None:
    before = digest(http)
    assert error_of(http.put("/v1/files/elsewhere/x.txt", content=b"x")) == (422, "invalid_request")
    assert error_of(http.get("/v1/files/elsewhere")) == (422, "invalid_request")
    assert digest(http) == before


BAD_NAMES = {
    "dot-dot": "%2E%2E",
    "dot": "%2E",
    "dot-dot-slash": "..%2Fx",
    "deep-traversal": "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "encoded-slash": "a%2Fb",
    "leading-slash": "%2Fetc",
    "backslash": "a%5Cb",
    "dot-dot-backslash": "..%5Cx",
    "nul": "a%00b",
    "newline": "a%0Ab",
    "leading-dot": ".hidden",
    "encoded-leading-dot": "%2Eenv",
    "blank": "%20%20",
    "too-long": "n" * 256,
}


@pytest.mark.parametrize("bad", sorted(BAD_NAMES))
def test_unsafe_file_names_are_refused(http: httpx.Client, live_server: LiveServer, bad: str) -> None:
    raw = BAD_NAMES[bad]
    before = digest(http)
    inbox = all_names(http, "inbox")
    blobs_before = sorted(p.name for p in (live_server.data_dir / "blobs").rglob("*"))
    url = f"{live_server.url}/v1/files/inbox/{raw}"
    for method, content in (("PUT", b"evil"), ("GET", None), ("DELETE", None)):
        response = http.request(method, url, content=content)
        assert response.status_code == 400, f"{method} {raw}: {response.status_code} {response.text}"
        assert response.json()["error"]["code"] == "invalid_file_name"
        assert "not allowed" in response.json()["error"]["message"]
    assert digest(http) == before
    assert all_names(http, "inbox") == inbox
    assert sorted(p.name for p in (live_server.data_dir / "blobs").rglob("*")) == blobs_before
    assert not (live_server.data_dir / "x").exists() and not (live_server.data_dir / "blobs" / "x").exists()
