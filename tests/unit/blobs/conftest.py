"""The S3 API server the object store tests talk to, and a misbehaving proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.s3_server import S3Server, shared_s3_server

from ._faulty_proxy import FaultyProxy


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    return shared_s3_server()


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultyProxy]:
    faulty = FaultyProxy(s3_server.endpoint)
    yield faulty
    faulty.close()
