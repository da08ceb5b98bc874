"""Shared fixtures: databases on SQLite and PostgreSQL (each test run gets its own PostgreSQL
database), and real envclone servers started as subprocesses on loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

ADMIN = "admin"
ADMIN_PASSWORD = "Adm1n-secret!"
PG_ADMIN_URL = os.environ.get("ENVCLONE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    # Packs are the default; ENVCLONE_CHUNK_LAYOUT=blobs runs the in-process tests over the older
    # one-blob-per-chunk layout (servers started as subprocesses read it through their settings).
    layout = os.environ.get("ENVCLONE_CHUNK_LAYOUT")
    if layout:
        from envclone.archive import set_default_layout

        set_default_layout(layout)


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    available = _pg_available()
    if not available and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_ADMIN_URL}")
    return available


class PgDatabases:
    """Creates throw-away databases on the PostgreSQL server and drops them at the end."""

    def __init__(self) -> None:
        self.engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"envclone_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        with self.engine.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_databases(pg_available: bool) -> Iterator[PgDatabases]:
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable (set ENVCLONE_TEST_PG_URL)")
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


def database_url(backend: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'envclone.db'}"
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    return dbs.create()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """An envclone server in its own process, driven over real HTTP."""

    def __init__(
        self, data_dir: Path, database_url: str, *, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ENVCLONE_DATABASE_URL": database_url,
            **(extra_env or {}),
        }
        self.args = args
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "envclone.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                *self.args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, user: str = ADMIN, password: str = ADMIN_PASSWORD) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(user, password), timeout=60)

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server per test module and database backend."""
    tmp = tmp_path_factory.mktemp(f"server-{request.param}")
    server = LiveServer(tmp / "data", database_url(request.param, tmp, request)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("server-sqlite")
    server = LiveServer(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}").start()
    yield server
    server.stop()


@pytest.fixture
def make_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Factory for servers a test owns: make_server(backend="sqlite", **kwargs)."""
    started: list[LiveServer] = []

    def make(backend: str = "sqlite", **kwargs: object) -> LiveServer:
        tmp = tmp_path / f"s{len(started)}"
        tmp.mkdir()
        server = LiveServer(tmp / "data", database_url(backend, tmp, request), **kwargs)  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()
