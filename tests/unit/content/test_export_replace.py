"""Exporting every component of one environment and replacing another's with it gives equal
digests, on SQLite; a failure during replacement leaves the target unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envclone.content.export import export_component
from envclone.content.replace import replace_component
from envclone.content.restore_blobs import restore_blobs
from envclone.domain.components import Component
from envclone.domain.principal import Principal
from envclone.services import content_resources, environment, files, records
from envclone.services import resource as res
from envclone.services.context import ServiceContext
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator", "Identity Domain Administrator"})


def fill(ctx: ServiceContext) -> None:
    project = res.create_item(ctx, ADMIN, content_resources.PROJECTS, {"name": "Tutorial"})
    res.create_items(
        ctx,
        ADMIN,
        content_resources.OBJECTS,
        [
            {
                "type": 3,
                "name": f"Report {i}",
                "definition": {"n": i},
                "acl": [],
                "translations": {"2052": {"n": "报告"}},
            }
            for i in range(50)
        ],
        scope=project["id"],
    )
    res.create_item(ctx, ADMIN, content_resources.USERS, {"login": "ann", "password": "s3cret-pass"})
    repo = res.create_item(ctx, ADMIN, content_resources.REPOSITORIES, {"name": "Default Backup Repository"})
    res.create_item(
        ctx, ADMIN, content_resources.JOBS, {"name": "Nightly", "job_type": "Backup", "repository_uid": repo["uid"]}
    )
    records.append(
        ctx,
        ADMIN,
        "applicationAudit",
        [{"ts": dt.datetime(2026, 1, 1, 0, 0, i), "actor": "ann", "action": "login"} for i in range(30)],
    )
    upload = files.start_upload(ctx, ADMIN, "inbox", "data.csv")
    upload.write(b"a,b\n" * 10000)
    upload.finish()
    environment.update_settings(ctx, ADMIN, {"theme": "Dark", "maintenance_start_time": "04:15"})
    environment.put_image(ctx, ADMIN, "logo", b"\x89PNG fake logo bytes", "image/png")


def snapshot(ctx: ServiceContext) -> dict[str, dict[str, bytes]]:
    out: dict[str, dict[str, bytes]] = {}
    with ctx.db.read() as conn:
        for component in Component:
            out[component.value] = {e.name: b"".join(e.open()) for e in export_component(conn, ctx.blobs, component)}
    return out


def opener(entries: dict[str, bytes]) -> Callable[[str], Iterator[bytes]]:
    def open_entry(name: str) -> Iterator[bytes]:
        data = entries[name]
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    return open_entry


def test_export_then_replace_reproduces_every_component(tmp_path: Path) -> None:
    source, target = make_context(tmp_path / "a"), make_context(tmp_path / "b")
    fill(source)
    exported = snapshot(source)
    for component in Component:
        restore_blobs(target.blobs, exported[component.value], opener(exported[component.value]))
    with target.db.begin() as conn:
        for component in Component:
            replace_component(conn, component, opener(exported[component.value]))
    assert environment.digest(target, ADMIN) == environment.digest(source, ADMIN)
    _, chunks = files.open_file(target, ADMIN, "inbox", "data.csv")
    assert b"".join(chunks) == b"a,b\n" * 10000


def test_failed_replacement_leaves_target_unchanged(tmp_path: Path) -> None:
    source, target = make_context(tmp_path / "a"), make_context(tmp_path / "b")
    fill(source)
    res.create_item(target, ADMIN, content_resources.PROJECTS, {"name": "Keep me"})
    before = environment.digest(target, ADMIN)
    exported = snapshot(source)
    broken = dict(exported[Component.APPLICATION_AUDIT.value])
    broken["records.jsonl"] = broken["records.jsonl"][:-20] + b"not json\n"
    with pytest.raises(ValueError), target.db.begin() as conn:
        replace_component(conn, Component.ARTIFACTS, opener(exported[Component.ARTIFACTS.value]))
        replace_component(conn, Component.APPLICATION_AUDIT, opener(broken))
    assert environment.digest(target, ADMIN) == before
