"""Builders of test content: the component names, service contexts for unit tests, and content made
through a running server's native API or seeded into its data directory. Builders assert that what
they ask for is created; they check nothing else."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from envclone.domain.components import RECORD_COMPONENTS, Component
from envclone.server import build_context
from envclone.services.context import ServiceContext
from envclone.settings import load_settings
from tests.conftest import ADMIN_PASSWORD

COMPONENTS: tuple[str, ...] = tuple(c.value for c in Component)
RECORD_KINDS: tuple[str, ...] = tuple(c.value for c in RECORD_COMPONENTS)


def tag() -> str:
    """A short unique suffix, so that names made by tests sharing a server never collide."""
    return uuid.uuid4().hex[:10]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- in-process environments (unit tests) ---------------------------------------------------------
def make_context(path: Path, **settings: object) -> ServiceContext:
    """An environment in ``path`` without a server; the maintenance scheduler is off unless asked."""
    values: dict[str, object] = {"data_dir": path, "admin_password": "pw-123456", "scheduler": False, **settings}
    ctx, _admin = build_context(load_settings(**values))
    return ctx


# --- through a running server's native API --------------------------------------------------------
def _created(response: httpx.Response) -> None:
    assert response.status_code == 201, f"{response.request.method} {response.request.url}: {response.text}"


def make_user(
    http: httpx.Client, *roles: str, password: str | None = None, enabled: bool | None = None
) -> tuple[str, str]:
    """A new user holding ``roles``; returns its login and password."""
    login, password = f"u-{tag()}", password or f"Pw-{tag()}-secret"
    body: dict[str, object] = {"login": login, "password": password}
    if enabled is not None:
        body["enabled"] = enabled
    _created(http.post("/v1/users", json=body))
    for role in roles:
        assignment = {"principal_kind": "user", "principal_name": login, "role_name": role}
        _created(http.post("/v1/role-assignments", json=assignment))
    return login, password


def make_environment(http: httpx.Client, *, start_time: str | None = None) -> str:
    """Content of an environment's own in every component: a project, a configuration object, a
    job, a record of each kind, an inbox file, a user, and (optionally) a maintenance start time.
    Returns the tag used in their names."""
    mark = tag()
    _created(http.post("/v1/projects", json={"name": f"own-{mark}"}))
    _created(http.post("/v1/configuration-objects", json={"type": 44, "name": f"own-{mark}"}))
    _created(http.post("/v1/jobs", json={"name": f"own-{mark}", "job_type": "Backup"}))
    for kind in RECORD_KINDS:
        item = {"actor": "target", "action": f"own-{mark}", "subject": kind}
        _created(http.post(f"/v1/records/{kind}", json={"items": [item]}))
    _created(http.put(f"/v1/files/inbox/own-{mark}.csv", content=f"Account,Amount\n{mark},1\n".encode()))
    _created(http.post("/v1/users", json={"login": f"own-{mark}", "password": f"Pw-{mark}"}))
    if start_time:
        response = http.patch("/v1/settings", json={"maintenance_start_time": start_time})
        assert response.status_code == 200, response.text
    return mark


# --- straight into a data directory --------------------------------------------------------------
def seed_directly(data_dir: Path, db_url: str, size: str) -> None:
    """``envclone seed --size SIZE --data-dir DIR`` into the data directory a server will use."""
    env = {**os.environ, "ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD, "ENVCLONE_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "envclone.cli.main", "seed", "--size", size, "--data-dir", str(data_dir)]
    done = subprocess.run(command, env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


@contextmanager
def sql_statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every SQL statement sent through the engine while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
