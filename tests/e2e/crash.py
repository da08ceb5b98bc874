"""What the crash tests share: a node (one environment's data directory and database) whose server
is started, killed and started again on the same port, with a fault point armed
(``ENVCLONE_FAULT``, engine.faults) or not; and the checks every crash must pass after the
restart: content old or new by digest, the operation's status true to it, nothing left open."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import ok

FAULT = "ENVCLONE_FAULT"
OPEN = ("queued", "running")


class Node:
    """One environment that outlives its server processes: the same data directory, database and
    port (a clone's source finds its target again after the target's restart)."""

    def __init__(self, data_dir: Path, db_url: str, password: str = ADMIN_PASSWORD) -> None:
        self.data_dir, self.db_url, self.password = data_dir, db_url, password
        self.server: LiveServer | None = None
        self.port: int | None = None
        self.url = ""

    def start(self, fault: str | None = None, **env: str) -> Node:
        """A server process on this node; ``fault`` (``<point>:<kind>``) arms a fault point."""
        self.stop()
        extra = {"ENVCLONE_ADMIN_PASSWORD": self.password, **env}
        if fault:
            extra[FAULT] = fault
        server = LiveServer(self.data_dir, self.db_url, extra_env=extra)
        if not fault:
            server.env.pop(FAULT, None)  # never inherited from the test's own environment
        if self.port is not None:
            server.port, server.url = self.port, f"http://127.0.0.1:{self.port}"
        self.port, self.url = server.port, server.url
        self.server = server.start()
        return self

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self.server is not None and self.server.process is not None
        return self.server.process

    def client(self) -> httpx.Client:
        assert self.server is not None
        return self.server.client(ADMIN, self.password)

    def running(self) -> Node:
        """This node's server without a fault armed: the one already running, or a new one."""
        alive = self.server is not None and self.server.process is not None and self.server.process.poll() is None
        if alive and self.server is not None and FAULT not in self.server.env:
            return self
        return self.start()

    def died_by_fault(self, deadline: float = 60.0) -> None:
        """Wait for the armed fault point to kill the server: it must end by SIGKILL, nothing else."""
        try:
            code = self.process.wait(deadline)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the server never reached its fault point:\n{self.log()[-3000:]}") from None
        assert code == -signal.SIGKILL, f"the server ended with {code}, not by its fault point:\n{self.log()[-3000:]}"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def log(self) -> str:
        return self.server.log() if self.server is not None else ""


def nothing_open(http: httpx.Client) -> None:
    """No operation of any kind queued or running: none stuck after a restart."""
    for status in OPEN:
        body = ok(http.get("/v1/operations", params={"status": status, "limit": 1000}))
        assert body["total"] == 0, f"operations left {status}: {body['items']}"


def operation(http: httpx.Client, op_id: str) -> dict[str, Any]:
    op: dict[str, Any] = ok(http.get(f"/v1/operations/{op_id}"))
    return op


def newest(http: httpx.Client, kind: str) -> dict[str, Any]:
    """The newest operation of ``kind`` on this node."""
    items = ok(http.get("/v1/operations", params={"kind": kind, "limit": 1000}))["items"]
    assert items, f"no {kind} operation"
    first: dict[str, Any] = items[0]
    return first


def wait_ended(http: httpx.Client, op_id: str, deadline: float = 120.0) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while True:
        op = operation(http, op_id)
        if op["status"] not in OPEN:
            return op
        assert time.monotonic() < end, f"operation {op_id} still {op['status']} after {deadline}s"
        time.sleep(0.05)  # pacing only: the loop ends on the operation's own status


def which(after: dict[str, str], old: dict[str, str], new: dict[str, str], components: list[str]) -> str:
    """``old`` or ``new``: the content by digest over ``components``, failing on a mix."""
    olds = [c for c in components if after[c] == old[c]]
    news = [c for c in components if after[c] == new[c]]
    if len(olds) == len(components):
        return "old"
    if len(news) == len(components):
        return "new"
    mix = {c: "old" if c in olds else "new" if c in news else "neither" for c in components}
    raise AssertionError(f"the environment is neither its old nor its new content: {mix}")
