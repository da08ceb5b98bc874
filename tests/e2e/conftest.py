"""Fixtures of the end-to-end tests: an admin client of the module's server, seeded servers, and
servers a whole module shares, a source and a target among them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.builders import seed_directly
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, database_url

# A target's own admin password: never the source's, so that a leak or a migrated user shows.
TARGET_PASSWORD = "Tgt-" + uuid.uuid4().hex[:12] + "-s3cret"


@pytest.fixture(scope="module")
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The first administrator's client of the module's server."""
    with live_server.client() as client:
        yield client


@contextmanager
def seeded_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str, backend: str, **env: str
) -> Iterator[LiveServer]:
    """A server on ``backend`` whose data directory was seeded (size small) before it started;
    stopped when the block ends."""
    tmp = tmp_path_factory.mktemp(f"{name}-{backend}")
    url = database_url(backend, tmp, request)
    seed_directly(tmp / "data", url, "small")
    server = LiveServer(tmp / "data", url, extra_env=env).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class ServerPair:
    """A clone's two ends, each with its admin's client."""

    source: LiveServer
    target: LiveServer
    src: httpx.Client
    tgt: httpx.Client


class Servers:
    """Servers a whole test module shares (make_server is per test): started on demand, stopped
    at the end of the module."""

    def __init__(self, request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> None:
        self.request, self.factory = request, factory
        self.started: list[LiveServer] = []
        self.clients: list[httpx.Client] = []

    def start(
        self,
        backend: str = "sqlite",
        *,
        password: str = ADMIN_PASSWORD,
        demo: bool = False,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        db_url: str | None = None,
    ) -> LiveServer:
        tmp = self.factory.mktemp(f"clone-{backend}")
        extra = {"ENVCLONE_ADMIN_PASSWORD": password, **(env or {})}
        server = LiveServer(
            data_dir or tmp / "data",
            db_url or database_url(backend, tmp, self.request),
            extra_env=extra,
            args=("--demo",) if demo else (),
        )
        self.started.append(server)
        return server.start()

    def pair(self, *, demo: bool = True) -> ServerPair:
        """A source (with the demo content unless ``demo`` is off) and an empty target whose admin
        has TARGET_PASSWORD."""
        source, target = self.start(demo=demo), self.start(password=TARGET_PASSWORD)
        pair = ServerPair(source, target, source.client(), target.client(ADMIN, TARGET_PASSWORD))
        self.clients += [pair.src, pair.tgt]
        return pair

    def restart(self, server: LiveServer) -> LiveServer:
        """A new server process on the same data directory and database (a new port)."""
        kept = {k: v for k, v in server.env.items() if k.startswith("ENVCLONE_") and k != "ENVCLONE_DATABASE_URL"}
        again = LiveServer(server.data_dir, server.database_url, extra_env=kept)
        self.started.append(again)
        return again.start()

    def stop_all(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.started:
            server.stop()


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    started = Servers(request, tmp_path_factory)
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def pair(servers: Servers) -> ServerPair:
    """The module's source, with the demo content, and its target."""
    return servers.pair()
