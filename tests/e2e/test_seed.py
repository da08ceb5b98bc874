"""``envclone seed`` end to end on SQLite: through a running server's API and directly into a data
directory, the same content either way and every time; additive (a larger size over a smaller one
adds the difference, the same or a smaller size again changes nothing); and ``serve --demo``
seeding on first start only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from envclone.cli.main import app
from envclone.demodata.sections import Section
from envclone.demodata.seeddata import SeedData
from envclone.demodata.sizes import COUNTS, Size
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer
from tests.e2e.client import digests, ok

SMALL = COUNTS[Size.SMALL]
SAME_EITHER_WAY = ("artifacts", "configuration", "jobs", "applicationAudit", "jobConsole", "dataManagement")
runner = CliRunner()


def seed_api(server: LiveServer, *extra: str, size: str = "small") -> Any:
    return runner.invoke(app, ["seed", "--size", size, "--url", server.url, "-u", ADMIN, "-p", ADMIN_PASSWORD, *extra])


def total(http: httpx.Client, path: str, **filters: str) -> int:
    return int(ok(http.get(path, params={"limit": 1, **filters}))["total"])


def components(server: LiveServer) -> dict[str, str]:
    with server.client() as http:
        return digests(http)


def files_of(server: LiveServer) -> list[tuple[str, str, int, str]]:
    with server.client() as http:
        rows = [(a, f) for a in ("inbox", "outbox") for f in ok(http.get(f"/v1/files/{a}?limit=1000"))["items"]]
    return sorted((area, f["name"], f["size"], f["hash"]) for area, f in rows)


@pytest.fixture(scope="module")
def seeded(sqlite_server: LiveServer) -> LiveServer:
    result = seed_api(sqlite_server)
    assert result.exit_code == 0, result.output
    assert "objects" in result.output and "3,000" in result.output
    return sqlite_server


def assert_small_content(server: LiveServer) -> None:
    data = SeedData(Size.SMALL)
    with server.client() as http:
        assert total(http, "/v1/users") == SMALL.users + 1  # and the first administrator
        assert total(http, "/v1/groups") == SMALL.groups
        assert total(http, "/v1/roles", kind="application") == 6
        groups = [quote(g["name"], safe="") for g in data.people.groups()]
        members = sum(total(http, f"/v1/groups/{g}/members") for g in groups)
        assert members == data.totals()[Section.GROUP_MEMBERS]
        assert total(http, "/v1/role-assignments") == data.totals()[Section.ROLE_ASSIGNMENTS] + 2  # admin's two
        projects = ok(http.get("/v1/projects"))["items"]
        assert sorted(p["id"] for p in projects) == sorted(p["id"] for p in data.projects.projects())
        assert sum(total(http, f"/v1/projects/{p['id']}/objects") for p in projects) == SMALL.objects
        schema = sum(total(http, f"/v1/projects/{p['id']}/objects", is_schema="true") for p in projects)
        assert 0 < schema < SMALL.objects
        assert sum(total(http, f"/v1/projects/{p['id']}/subscriptions") for p in projects) == SMALL.subscriptions
        assert total(http, "/v1/configuration-objects") == SMALL.config_objects
        assert total(http, "/v1/configuration-objects", type="44") > 0
        assert total(http, "/v1/repositories") == SMALL.repositories
        assert total(http, "/v1/jobs") == SMALL.jobs
        assert total(http, "/v1/records/applicationAudit") == SMALL.audit
        assert total(http, "/v1/records/jobConsole") == SMALL.job_console
        assert total(http, "/v1/records/dataManagement") == SMALL.data_management
        assert total(http, "/v1/files/inbox") + total(http, "/v1/files/outbox") == SMALL.files
        settings = ok(http.get("/v1/settings"))
        assert {k: settings[k] for k in data.settings()} == data.settings()
    assert sum(size for _, _, size, _ in files_of(server)) == SMALL.file_bytes
    # The seeded sign-in users can log in with the passwords derived from the seed.
    login, password = "epm.admin", data.people.passwords["epm.admin"]
    with server.client(login, password) as http:
        assert "Service Administrator" in ok(http.get("/v1/auth/whoami"))["roles"]


def test_seeding_through_the_api_creates_the_declared_counts(seeded: LiveServer) -> None:
    assert_small_content(seeded)


def digest(server: LiveServer) -> Any:
    with server.client() as http:
        return ok(http.get("/v1/environment/digest"))


def test_seeding_the_same_size_again_changes_nothing(seeded: LiveServer) -> None:
    before = digest(seeded)
    result = seed_api(seeded)
    assert result.exit_code == 0, result.output
    assert "nothing to add" in result.output
    assert digest(seeded) == before


def test_seeding_with_another_seed_is_refused_with_what_to_do(seeded: LiveServer) -> None:
    before = digest(seeded)
    result = seed_api(seeded, "--seed", "2")
    assert result.exit_code == 5, result.output
    message = " ".join(result.output.split())  # as Rich wrapped it
    assert "seeded with another --seed" in message and "seed an empty environment" in message
    assert digest(seeded) == before


def inventory(server: LiveServer) -> dict[str, int]:
    """How many items of each kind the server holds (objects and the like over all projects)."""
    with server.client() as http:
        projects = [p["id"] for p in ok(http.get("/v1/projects"))["items"]]
        groups = [quote(g["name"], safe="") for g in ok(http.get("/v1/groups", params={"limit": 1000}))["items"]]
        out = {
            path: total(http, f"/v1/{path}")
            for path in ("users", "groups", "roles", "role-assignments", "configuration-objects", "repositories",
                         "jobs", "records/applicationAudit", "records/jobConsole", "records/dataManagement",
                         "files/inbox", "files/outbox")
        }  # fmt: skip
        out["projects"] = len(projects)
        out["members"] = sum(total(http, f"/v1/groups/{g}/members") for g in groups)
        for kind in ("objects", "profile-folders", "subscriptions"):
            out[kind] = sum(total(http, f"/v1/projects/{p}/{kind}") for p in projects)
        return out


def seed_directly(data_dir: Path, size: str) -> None:
    env = {"ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD}
    result = runner.invoke(app, ["seed", "--size", size, "--data-dir", str(data_dir)], env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose data directory was seeded with the small size, then the medium one (directly:
    the same sequence as through the API, which takes minutes for the medium size)."""
    data_dir = tmp_path_factory.mktemp("grown") / "data"
    for size in ("small", "medium"):
        seed_directly(data_dir, size)
    server = LiveServer(data_dir, f"sqlite:///{data_dir / 'envclone.db'}").start()
    try:
        yield server
    finally:
        server.stop()


def test_a_larger_size_over_a_smaller_one_adds_what_a_fresh_seed_has(grown: LiveServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed_directly(data_dir, "medium")
    fresh = LiveServer(data_dir, f"sqlite:///{data_dir / 'envclone.db'}").start()
    try:
        counts = inventory(grown)
        assert counts == inventory(fresh)
        assert counts["objects"] == COUNTS[Size.MEDIUM].objects and counts["files/inbox"] > 0
        ours, theirs = components(grown), components(fresh)
        assert {c: ours[c] for c in SAME_EITHER_WAY} == {c: theirs[c] for c in SAME_EITHER_WAY}
        assert files_of(grown) == files_of(fresh)
    finally:
        fresh.stop()


def test_a_smaller_size_over_a_larger_one_adds_nothing_through_the_api(grown: LiveServer) -> None:
    before = digest(grown)
    result = seed_api(grown, size="small")
    assert result.exit_code == 0, result.output
    assert "nothing to add" in result.output
    assert digest(grown) == before


def test_bad_credentials_and_missing_target_exit_non_zero(seeded: LiveServer) -> None:
    result = runner.invoke(app, ["seed", "--url", seeded.url, "-u", ADMIN, "-p", "wrong"])
    assert result.exit_code != 0 and "seeding failed" in result.output
    result = runner.invoke(app, ["seed"], env={"ENVCLONE_URL": ""})
    assert result.exit_code == 2 and "--data-dir" in result.output


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second fresh server, seeded through the API like ``seeded``."""
    tmp = tmp_path_factory.mktemp("twin")
    server = LiveServer(tmp / "data", f"sqlite:///{tmp / 'envclone.db'}").start()
    try:
        result = seed_api(server)
        assert result.exit_code == 0, result.output
        yield server
    finally:
        server.stop()


def test_two_fresh_servers_seeded_alike_have_equal_digests(seeded: LiveServer, twin: LiveServer) -> None:
    ours, theirs = components(seeded), components(twin)
    assert {c: ours[c] for c in SAME_EITHER_WAY} == {c: theirs[c] for c in SAME_EITHER_WAY}
    assert files_of(seeded) == files_of(twin)
    # Only the salted password hashes (and the upload times, below) tell the two apart.
    assert ours["users"] != theirs["users"]


def test_files_digest_is_equal_after_seeding_alike(seeded: LiveServer, twin: LiveServer) -> None:
    assert components(seeded)["files"] == components(twin)["files"]


def test_seeding_a_data_directory_directly_matches_the_api(seeded: LiveServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = runner.invoke(
        app, ["seed", "--size", "small", "--data-dir", str(data_dir)], env={"ENVCLONE_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )
    assert result.exit_code == 0, result.output
    server = LiveServer(data_dir, f"sqlite:///{data_dir / 'envclone.db'}").start()
    try:
        assert_small_content(server)
        direct, api = components(server), components(seeded)
        assert {c: direct[c] for c in SAME_EITHER_WAY} == {c: api[c] for c in SAME_EITHER_WAY}
        assert files_of(server) == files_of(seeded)
    finally:
        server.stop()


def test_serve_demo_seeds_on_first_start_only(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(args=("--demo",))
    assert_small_content(server)
    before = components(server)
    server.stop()
    server.start()  # a second start with --demo must leave the content alone
    assert components(server) == before
