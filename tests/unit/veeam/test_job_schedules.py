"""Jobs run on their own schedules: a job whose schedule is enabled (the job's flag and its daily
schedule's isEnabled) starts once per day at its localTime, in the environment's time zone; its
first run is its next slot, a slot is handled once, and jobs whose schedule is off never start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envclone.domain.operation import OperationStatus
from envclone.domain.principal import Principal
from envclone.server import build_context
from envclone.services import content_resources, environment, job_runs, resource
from envclone.services.context import ServiceContext
from envclone.services.job_schedules import JobSchedules, daily_time
from envclone.settings import load_settings
from tests.conftest import database_url

ADMIN = Principal.of("admin", {"Service Administrator"})


# PostgreSQL too: it enforces column lengths that SQLite ignores (a job's slot key once outgrew its column).
@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServiceContext]:
    settings = load_settings(
        data_dir=tmp_path,
        database_url=database_url(request.param, tmp_path, request),
        admin_password="pw-1234567890",
        scheduler=False,
    )
    context, _ = build_context(settings)
    environment.update_settings(context, ADMIN, {"maintenance_time_zone": "Europe/Paris"})
    yield context
    context.engine.shutdown()


def make_job(ctx: ServiceContext, repository: str, name: str, enabled: bool, daily: dict[str, Any]) -> str:
    values = {
        "name": name,
        "job_type": "Backup",
        "repository_uid": repository,
        "folder_name": name,
        "schedule_enabled": enabled,
        "definition": {"schedule": {"daily": daily}},
    }
    return str(resource.create_item(ctx, ADMIN, content_resources.JOBS, values)["uid"])


def runs(ctx: ServiceContext, uid: str) -> list[OperationStatus]:
    done = []
    for op in job_runs.list_runs(ctx, ADMIN, uid):
        done.append(ctx.engine.wait(op.id, timeout=120).status)
    return done


def paris(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(hours=1)  # CET is UTC+1


def test_a_scheduled_job_runs_once_a_day_at_its_local_time(ctx: ServiceContext) -> None:
    repository = str(
        resource.create_item(ctx, ADMIN, content_resources.REPOSITORIES, {"name": "r", "path": "r"})["uid"]
    )
    nightly = make_job(ctx, repository, "nightly", True, {"isEnabled": True, "localTime": "22:00"})
    off = make_job(ctx, repository, "off", False, {"isEnabled": True, "localTime": "22:00"})
    daily_off = make_job(ctx, repository, "daily-off", True, {"isEnabled": False, "localTime": "22:00"})
    schedules = JobSchedules(ctx)

    assert schedules.tick(paris(1, 21, 0)) == {nightly: "idle"}  # first sight: its next slot is tonight
    assert runs(ctx, nightly) == []
    assert schedules.tick(paris(1, 22, 1)) == {nightly: "ran"}
    assert runs(ctx, nightly) == [OperationStatus.SUCCEEDED]
    assert schedules.tick(paris(1, 23, 30)) == {nightly: "idle"}  # tonight's slot is handled
    assert schedules.tick(paris(2, 22, 0)) == {nightly: "ran"}  # the next day
    assert runs(ctx, nightly) == [OperationStatus.SUCCEEDED, OperationStatus.SUCCEEDED]
    assert runs(ctx, off) == [] and runs(ctx, daily_off) == []


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"schedule_enabled": True, "definition": {"schedule": {"daily": {"isEnabled": True, "localTime": "9:30"}}}},
         "09:30"),
        ({"schedule_enabled": True, "definition": {"schedule": {"daily": {"isEnabled": True, "localTime": "25:00"}}}},
         None),
        ({"schedule_enabled": True, "definition": {"schedule": {"daily": {"isEnabled": "yes", "localTime": "22:00"}}}},
         None),
        ({"schedule_enabled": True, "definition": []}, None),
        ({"schedule_enabled": False, "definition": {"schedule": {"daily": {"isEnabled": True, "localTime": "22:00"}}}},
         None),
    ],
)  # fmt: skip
def test_which_schedules_run(job: dict[str, Any], expected: str | None) -> None:
    assert daily_time(job) == expected
