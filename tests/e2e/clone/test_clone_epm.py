"""Clone an Environment (EPM REST API, ``POST /interop/rest/v1/services/clone``) between two real
servers: the document's example payload and cURL samples verbatim, the initiate and status bodies
exactly as documented, every option on and off checked by component digests on both sides, the
service types the options apply to, each error in Oracle's shape with nothing changed, the target
password kept out of every response, log and database, resending only what the target lacks, and
a transfer interrupted by killing the target. The main scenario runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from envclone.api.epm.schemas import CloneStatus
from tests.builders import COMPONENTS, RECORD_KINDS, b64, make_environment, make_user, seed_directly, tag
from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, free_port
from tests.e2e.client import (
    RESTORE,
    digests,
    epm_error,
    ok,
    operation_ids,
    run_maintenance,
    sqlite_bytes,
    wait_job,
)
from tests.e2e.clone import (
    CLONE,
    DOCUMENTED,
    LOGIN,
    MIGRATION,
    OPTION_STEPS,
    RECREATE,
    SERVICE,
    STATUS,
    VERSION,
    can_log_in,
    check_failed,
    check_started,
    check_succeeded,
    clone_ops,
    epm_body,
    latest_clone,
    poll_status,
)
from tests.e2e.conftest import TARGET_PASSWORD, Servers

# --- the document's samples, character for character ------------------------------------------------
EXAMPLE_PAYLOAD = """{
"targetURL": "https://<TARGET-BASE-URL>",
"targetUserName": "cloneUser@oracle.com",
"targetEncryptPassword": "<TARGET-BASE64-ENCODED-PASSWORD>",
"parameters": {
"snapshotName": "Artifact Snapshot",
"migrateUsers": true,
"maintenanceStartTime": true,
"dataManagement": true,
"jobConsole": true,
"applicationAudit": true,
"storedSnapshotsAndFiles": false
}
}"""
CURL_BODY = """{"targetURL":
" https://<BASE URL>","targetUserName":"<TARGET-USERNAME>","targetEncryptPassword":"<TARGET-BASE64ENCODED-PASSWORD>",
"parameters":{"snapshotName":"<SNAPSHOT-NAME>","migrateUsers":"true","maintenanceStartTime":"<TRUE/FALSE>","dataManagement":
"<TRUE/FALSE>","jobConsole":"<TRUE/FALSE>","applicationAudit":"<TRUE/FALSE>","storedSnapshotsAndFiles":"<TRUE/FALSE>"}}"""
CURL_FLAGS = ("maintenanceStartTime", "dataManagement", "jobConsole", "applicationAudit", "storedSnapshotsAndFiles")
# What each option carries to the target when it is on (the rest always travel).
CARRIED = {
    "migrateUsers": "users",
    "dataManagement": "dataManagement",
    "jobConsole": "jobConsole",
    "applicationAudit": "applicationAudit",
    "storedSnapshotsAndFiles": "files",
}
SOURCE_START_TIME = "05:00"
APP_PROPERTIES = ("theme", "business_process_name", "email_notifications", "redwood_experience")
MAINTENANCE = ("maintenance_start_time", "maintenance_time_zone")


# --- environments -----------------------------------------------------------------------------------
@dataclass
class Env:
    """A server with an admin client; the admin's password changes when users are cloned over it."""

    server: LiveServer
    http: httpx.Client
    password: str

    def set_password(self, password: str) -> None:
        self.password = password
        self.http.auth = httpx.BasicAuth(ADMIN, password)

    def new_password(self) -> str:
        """Give the admin a fresh password of its own (so that a cloned one would show)."""
        password = f"Own-{tag()}-pw"
        ok(self.http.patch(f"/v1/users/{ADMIN}", json={"password": password}))
        self.set_password(password)
        return password


def env_of(server: LiveServer, password: str) -> Env:
    return Env(server, server.client(ADMIN, password), password)


def _source(servers: Servers, backend: str = "sqlite", *, demo: bool = True, **kwargs: Any) -> Env:
    source = env_of(servers.start(backend, demo=demo, **kwargs), ADMIN_PASSWORD)
    if not demo:
        make_environment(source.http)
    # Before the first clone takes its snapshot: a start time the targets do not have.
    ok(source.http.patch("/v1/settings", json={"maintenance_start_time": SOURCE_START_TIME, "theme": "Source theme"}))
    return source


def _target(servers: Servers, backend: str = "sqlite", **kwargs: Any) -> Env:
    return env_of(servers.start(backend, password=TARGET_PASSWORD, **kwargs), TARGET_PASSWORD)


@dataclass
class Pair:
    source: Env
    target: Env


@pytest.fixture(scope="module")
def pair(servers: Servers) -> Pair:
    """The SQLite source (demo content) and target most tests share."""
    return Pair(_source(servers), _target(servers))


@pytest.fixture(scope="module")
def pg_pair(servers: Servers) -> Pair:
    return Pair(_source(servers, "postgres"), _target(servers, "postgres"))


@pytest.fixture(scope="module")
def narrative(servers: Servers) -> Pair:
    nr = {"ENVCLONE_SERVICE_TYPE": "Narrative Reporting"}
    return Pair(_source(servers, env=nr, demo=False), _target(servers, env=nr))


@pytest.fixture(scope="module")
def reconciliation(servers: Servers) -> Pair:
    ar = {"ENVCLONE_SERVICE_TYPE": "Account Reconciliation"}
    return Pair(_source(servers, env=ar, demo=False), _target(servers, env=ar))


@pytest.fixture(scope="module")
def newer(servers: Servers) -> Env:
    """A Planning target two years newer than the sources (24.10)."""
    return _target(servers, env={"ENVCLONE_VERSION": "26.10"})


# --- helpers ----------------------------------------------------------------------------------------
def clone(source: Env, target: Env, parameters: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    """Start a clone through the EPM API and wait for its final status body."""
    response = source.http.post(CLONE, json=epm_body(target.server, target.password, parameters), headers=headers)
    check_started(ok(response), source.server)
    final = poll_status(source.http)
    migrated(source, target, final)
    return final


def migrated(source: Env, target: Env, final: dict[str, Any]) -> None:
    """After a clone with migrateUsers, the target's admin has the source's password."""
    if final["status"] == 0 and latest_clone(source.http)["result"]["options"]["migrateUsers"]:
        target.set_password(source.password)


def effective(source: Env) -> dict[str, bool | None]:
    options: dict[str, bool | None] = latest_clone(source.http)["result"]["options"]
    return options


def copied(options: dict[str, bool | None]) -> set[str]:
    chosen = {"artifacts", "configuration", "jobs"} | {c for o, c in CARRIED.items() if options.get(o)}
    if options.get("maintenanceStartTime") is not False and options.get("appProperties") is not False:
        chosen.add("settings")
    return chosen


def prepare_target(target: Env, source: Env) -> tuple[dict[str, str], str]:
    """Content of the target's own in every component, and a fresh admin password; returns the
    target's digests, each checked to differ from the source's, and the tag of its own content."""
    minute = int(tag()[:4], 16) % 60
    mark = make_environment(target.http, start_time=f"07:{minute:02d}")
    target.new_password()
    before, theirs = digests(target.http), digests(source.http)
    assert {c for c in COMPONENTS if before[c] == theirs[c]} == set(), (before, theirs)
    return before, mark


def check_components(source: Env, target: Env, before: dict[str, str], options: dict[str, bool | None]) -> None:
    """Per component: what the options carried equals the source, the rest is the target's own."""
    theirs, after = digests(source.http), digests(target.http)
    chosen = copied(options)
    assert {c: after[c] for c in chosen} == {c: theirs[c] for c in chosen}, options
    kept = set(COMPONENTS) - chosen - {"settings"}
    assert {c: after[c] for c in kept} == {c: before[c] for c in kept}, options
    if "settings" not in chosen:  # some keys kept, the rest the source's
        assert after["settings"] != theirs["settings"], options
    if options.get("appProperties") is not False:
        assert other_settings(target) == other_settings(source), options


def other_settings(env: Env) -> dict[str, Any]:
    """Settings apart from the environment's identity and its maintenance start time."""
    identity = {"instance_id", "name", "service_type", "version", "locale", "software"}
    values: dict[str, Any] = ok(env.http.get("/v1/settings"))
    return {k: v for k, v in values.items() if k not in identity | set(MAINTENANCE)}


def settings_of(env: Env, keys: tuple[str, ...]) -> dict[str, Any]:
    values = ok(env.http.get("/v1/settings"))
    return {k: values[k] for k in keys}


def secret_free(*texts: str, secrets: tuple[str, ...]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"{secret!r} found in {text[:300]!r}"


def operation_rows(server: LiveServer) -> str:
    """Everything the operations table stores (params, steps, result, error), as text."""
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT params, steps, result, error_message FROM operations")).all()
    finally:
        engine.dispose()
    return json.dumps([[str(v) for v in row] for row in rows])


# --- the document's example payload, on SQLite, PostgreSQL and SQLite -> PostgreSQL ------------------
@pytest.fixture(params=["sqlite", "postgres", "sqlite-to-postgres"])
def route(request: pytest.FixtureRequest) -> Pair:
    if request.param == "sqlite":
        chosen: Pair = request.getfixturevalue("pair")
        return chosen
    pg: Pair = request.getfixturevalue("pg_pair")
    if request.param == "postgres":
        return pg
    sqlite: Pair = request.getfixturevalue("pair")
    return Pair(sqlite.source, pg.target)


def test_example_payload_verbatim_makes_the_target_equal(route: Pair) -> None:
    source, target = route.source, route.target
    before, mark = prepare_target(target, source)
    own_user, own_file = f"own-{mark}", f"own-{mark}.csv"
    assert target.http.get(f"/v1/users/{own_user}").status_code == 200
    old_password = target.password
    payload = (
        EXAMPLE_PAYLOAD.replace("https://<TARGET-BASE-URL>", target.server.url)
        .replace("cloneUser@oracle.com", ADMIN)
        .replace("<TARGET-BASE64-ENCODED-PASSWORD>", b64(target.password))
    )
    assert "<" not in payload and "targetUserName" in payload
    response = source.http.post(CLONE, content=payload.encode(), headers={"Content-Type": "application/json"})
    check_started(ok(response), source.server)
    final = poll_status(source.http)
    marks = dict.fromkeys(("migrateUsers", "dataManagement", "jobConsole", "applicationAudit"), "Success")
    check_succeeded(final, {**marks, "maintenanceStartTime": "Success", "storedSnapshotsAndFiles": "NA"})
    assert final["intermittentStatus"][-1] == {MIGRATION: "Success"}
    # The status stays readable, and the same, once the clone has ended.
    assert ok(source.http.get(STATUS)) == final
    CloneStatus.model_validate(final)  # the shape /openapi.json declares (the fuzzer starts no clone)
    # migrateUsers: the target's users are the source's, its admin logs in with the source's password.
    assert can_log_in(target.server, source.password) and not can_log_in(target.server, old_password)
    target.set_password(source.password)
    check_components(source, target, before, effective(source))
    assert target.http.get(f"/v1/users/{own_user}").status_code == 404
    assert target.http.get(f"/v1/files/inbox/{own_file}").status_code == 200
    assert settings_of(target, MAINTENANCE) == settings_of(source, MAINTENANCE)
    assert final["backupName"] == latest_clone(source.http)["result"]["backupName"]


def test_password_is_kept_out_of_the_postgresql_operations_table(pg_pair: Pair) -> None:
    source, target = pg_pair.source, pg_pair.target
    password = target.new_password()
    assert clone(source, target, {"migrateUsers": False})["status"] == 0
    assert can_log_in(target.server, password)
    stored = operation_rows(source.server) + operation_rows(target.server)
    assert target.server.url in stored  # the rows are there
    assert latest_clone(source.http)["parameters"]["target_url"] == target.server.url
    secret_free(stored, secrets=(password, b64(password)))


# --- the cURL samples, run by curl -------------------------------------------------------------------
def curl_body(target: Env, flags: dict[str, str]) -> str:
    body = (
        CURL_BODY.replace("https://<BASE URL>", target.server.url)
        .replace("<TARGET-USERNAME>", ADMIN)
        .replace("<TARGET-BASE64ENCODED-PASSWORD>", b64(target.password))
        .replace("<SNAPSHOT-NAME>", "Artifact Snapshot")
    )
    for name in CURL_FLAGS:
        body = body.replace('"<TRUE/FALSE>"', json.dumps(flags[name]), 1)
    assert "<" not in body and f'" {target.server.url}"' in body  # the sample's leading space is kept
    return body


def curl(source: Env, body: str, *auth: str) -> dict[str, Any]:
    command = ["curl", "-X", "POST", *auth, "-H", "Content-Type: application/json", "-d", body]
    done = subprocess.run([*command, f"{source.server.url}{CLONE}"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    ("auth", "flags"),
    [
        ("basic", ("true", "true", "false", "true", "true")),
        ("bearer", ("false", "false", "true", "false", "false")),
    ],
)
def test_curl_sample(pair: Pair, auth: str, flags: tuple[str, ...]) -> None:
    source, target = pair.source, pair.target
    before, _ = prepare_target(target, source)
    if auth == "basic":
        credentials = ("-s", "-u", f"{ADMIN}:{ADMIN_PASSWORD}")
    else:
        token = ok(source.http.post("/v1/auth/token", json={"username": ADMIN, "password": ADMIN_PASSWORD}))
        assert token["token_type"] == "Bearer"
        credentials = ("--header", f"Authorization: Bearer {token['access_token']}")
    named = dict(zip(CURL_FLAGS, flags, strict=True))
    check_started(curl(source, curl_body(target, named), *credentials), source.server)
    final = poll_status(source.http)
    marks = {name: "Success" if value == "true" else "NA" for name, value in named.items()}
    check_succeeded(final, {**marks, "migrateUsers": "Success"})
    options = effective(source)
    assert options == {**{n: v == "true" for n, v in named.items()}, "migrateUsers": True, "appProperties": None}
    migrated(source, target, final)
    check_components(source, target, before, options)
    kept = settings_of(source if named["maintenanceStartTime"] == "true" else target, MAINTENANCE)
    assert settings_of(target, MAINTENANCE) == kept
    # The other settings travel with the snapshot (appProperties does not apply to Planning).
    assert settings_of(target, APP_PROPERTIES) == settings_of(source, APP_PROPERTIES)


def test_the_curl_sample_unfilled_is_refused(pair: Pair) -> None:
    """The placeholders "<TRUE/FALSE>" are not booleans: 422, and nothing starts."""
    source, target = pair.source, pair.target
    body = CURL_BODY.replace("https://<BASE URL>", target.server.url).replace(
        "<TARGET-BASE64ENCODED-PASSWORD>", b64(target.password)
    )
    ops, theirs = operation_ids(source.http), digests(target.http)
    details = epm_error(source.http.post(CLONE, content=body, headers={"Content-Type": "application/json"}), 422)
    assert "true" in details.lower() or "bool" in details.lower(), details
    assert operation_ids(source.http) == ops and digests(target.http) == theirs


# --- status localization ----------------------------------------------------------------------------
def test_status_details_are_localized_and_intermittent_status_is_not(pair: Pair) -> None:
    source, target = pair.source, pair.target
    if not clone_ops(source.http):
        assert clone(source, target)["status"] == 0
    english = ok(source.http.get(STATUS, headers={"Accept-Language": "en"}))
    assert ok(source.http.get(STATUS)) == english
    messages = [d["message"] for d in english["statusDetails"]]
    assert messages == [next(iter(s)) for s in english["intermittentStatus"]]
    for language in ("fr", "de", "es", "ja", "fr-FR,fr;q=0.9,en;q=0.5"):
        body = ok(source.http.get(STATUS, headers={"Accept-Language": language}))
        assert {k: v for k, v in body.items() if k != "statusDetails"} == {
            k: v for k, v in english.items() if k != "statusDetails"
        }, language
        assert [d["result"] for d in body["statusDetails"]] == [d["result"] for d in english["statusDetails"]]
        assert {d["result"] for d in body["statusDetails"]} <= {"success", "inProgress", "failed", "NA"}
        local = [d["message"] for d in body["statusDetails"]]
        same = [m for m, e in zip(local, messages, strict=True) if m == e]
        assert same == [], f"{language}: not translated: {same}"
    fr = ok(source.http.get(STATUS, headers={"Accept-Language": "fr"}))["statusDetails"]
    de = ok(source.http.get(STATUS, headers={"Accept-Language": "de"}))["statusDetails"]
    assert fr != de


# --- every option on and off ------------------------------------------------------------------------
EVERYTHING = ("migrateUsers", "maintenanceStartTime", "dataManagement", "jobConsole", "applicationAudit")
OPTION_CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "maintenanceStartTime-off": {"maintenanceStartTime": False},
    "everything-on": {**dict.fromkeys(EVERYTHING, True), "storedSnapshotsAndFiles": True},
    "everything-off": {**dict.fromkeys(EVERYTHING, False), "storedSnapshotsAndFiles": False},
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_each_option_carries_or_keeps_its_component(pair: Pair, case: str) -> None:
    source, target = pair.source, pair.target
    parameters = OPTION_CASES[case]
    before, _ = prepare_target(target, source)
    own_password = target.password
    own_times = settings_of(target, MAINTENANCE)
    final = clone(source, target, parameters)
    options = effective(source)
    defaults = {"migrateUsers": False, "storedSnapshotsAndFiles": False, "appProperties": None}
    assert options == {**dict.fromkeys(OPTION_STEPS, True), **defaults, **parameters}
    marks = {name: "Success" if on else "NA" for name, on in options.items()}
    check_succeeded(final, marks)
    check_components(source, target, before, options)
    if options["migrateUsers"]:
        assert can_log_in(target.server, source.password) and not can_log_in(target.server, own_password)
    else:
        assert target.password == own_password and can_log_in(target.server, own_password)
        assert not can_log_in(target.server, source.password)
    times = settings_of(target, MAINTENANCE)
    assert times == (settings_of(source, MAINTENANCE) if options["maintenanceStartTime"] else own_times)


def test_a_second_clone_of_an_unchanged_source_sends_nothing(pair: Pair) -> None:
    source, target = pair.source, pair.target
    assert clone(source, target, {"storedSnapshotsAndFiles": True})["status"] == 0
    audit = "/v1/records/applicationAudit"
    seqs = [r["seq"] for r in ok(target.http.get(audit, params={"limit": 1000}))["items"]]
    assert clone(source, target, {"storedSnapshotsAndFiles": True})["status"] == 0
    result = latest_clone(source.http)["result"]
    assert result["chunks"] > 0 and (result["chunksSent"], result["bytesSent"]) == (0, 0), result
    # and the target rewrote nothing: every component already had the source's digest
    for name, change in result["changes"].items():
        assert (change["created"], change["replaced"], change["removed"]) == (0, 0, 0), (name, change)
        assert change["unchanged"] == change["before"] == change["after"], (name, change)
    assert [r["seq"] for r in ok(target.http.get(audit, params={"limit": 1000}))["items"]] == seqs
    first = [op for op in clone_ops(source.http) if op["status"] == "succeeded"][-1]["result"]
    assert first["chunksSent"] > 0 and first["bytesSent"] > 0, first


# --- service types ----------------------------------------------------------------------------------
def test_narrative_reporting_has_no_record_options(narrative: Pair) -> None:
    source, target = narrative.source, narrative.target
    before, _ = prepare_target(target, source)
    final = clone(source, target, {"dataManagement": True, "jobConsole": True, "applicationAudit": True})
    options = effective(source)
    assert {name: options[name] for name in RECORD_KINDS} == dict.fromkeys(RECORD_KINDS)
    check_succeeded(final, {**dict.fromkeys(RECORD_KINDS, "NA"), "appProperties": "NA"})
    after = digests(target.http)
    assert {k: after[k] for k in RECORD_KINDS} == {k: before[k] for k in RECORD_KINDS}
    check_components(source, target, before, options)


def test_account_reconciliation_clones_app_properties_unless_told_not_to(reconciliation: Pair) -> None:
    source, target = reconciliation.source, reconciliation.target
    props = {"theme": "Reconciled", "business_process_name": "Recon source", "email_notifications": False}
    ok(source.http.patch("/v1/settings", json=props))
    ok(target.http.patch("/v1/settings", json={"theme": "Target theme", "business_process_name": "Recon target"}))
    own = settings_of(target, APP_PROPERTIES)
    before, _ = prepare_target(target, source)

    final = clone(source, target, {"appProperties": False})
    check_succeeded(final, {"appProperties": "NA", "jobConsole": "NA", "applicationAudit": "NA"})
    options = effective(source)
    assert (options["appProperties"], options["jobConsole"], options["applicationAudit"]) == (False, None, None)
    assert options["dataManagement"] is True
    check_components(source, target, before, options)
    assert settings_of(target, APP_PROPERTIES) == own
    assert settings_of(target, MAINTENANCE) == settings_of(source, MAINTENANCE)

    before, _ = prepare_target(target, source)
    final = clone(source, target)
    check_succeeded(final, {"appProperties": "Success", "dataManagement": "Success", "jobConsole": "NA"})
    assert effective(source)["appProperties"] is True
    check_components(source, target, before, effective(source))
    assert settings_of(target, APP_PROPERTIES) == settings_of(source, APP_PROPERTIES)
    assert settings_of(target, ("theme",)) == {"theme": "Reconciled"}


# --- errors: each in Oracle's shape, nothing changed ------------------------------------------------
@dataclass
class Unchanged:
    """Digests and operations of both sides, taken before a failing request."""

    pair: Pair
    source_digests: dict[str, str]
    target_digests: dict[str, str]
    target_ops: set[str]

    @classmethod
    def of(cls, source: Env, target: Env) -> Unchanged:
        return cls(Pair(source, target), digests(source.http), digests(target.http), operation_ids(target.http))

    def check(self) -> None:
        source, target = self.pair.source, self.pair.target
        assert digests(source.http) == self.source_digests
        assert digests(target.http) == self.target_digests
        if target is not source:  # the source records its own (failed) clone
            assert operation_ids(target.http) == self.target_ops, "the target started an apply"


def failing(source: Env, target: Env, body: dict[str, Any], step: str, code: int) -> str:
    unchanged = Unchanged.of(source, target)
    check_started(ok(source.http.post(CLONE, json=body)), source.server)
    final = poll_status(source.http)
    details = check_failed(final, step, code)
    # Error details are always in English; statusDetails carry them as failureDetails.
    japanese = ok(source.http.get(STATUS, headers={"Accept-Language": "ja"}))
    assert japanese["details"] == details and japanese["intermittentStatus"] == final["intermittentStatus"]
    assert japanese["statusDetails"][-1]["result"] == "failed"
    assert japanese["statusDetails"][-1].get("failureDetails") == details
    op = latest_clone(source.http)
    assert op["status"] == "failed" and op["error"]["message"] == details
    unchanged.check()
    return details


def test_unreachable_target_fails_at_login_and_a_second_clone_meanwhile_is_409(pair: Pair) -> None:
    source, target = pair.source, pair.target
    unchanged = Unchanged.of(source, target)
    closed = f"http://127.0.0.1:{free_port()}"
    body = {**epm_body(target.server, target.password), "targetURL": closed}
    check_started(ok(source.http.post(CLONE, json=body)), source.server)
    # The first clone is still trying to reach the target: a second one is refused.
    ops = operation_ids(source.http)
    details = epm_error(source.http.post(CLONE, json=epm_body(target.server, target.password)), 409)
    assert "cloneEnvironment" in details, details
    assert operation_ids(source.http) == ops
    final = poll_status(source.http)
    details = check_failed(final, LOGIN, 12)
    assert "127.0.0.1" in details and "reach" in details, details
    unchanged.check()


def test_wrong_target_password_fails_at_login(pair: Pair) -> None:
    source, target = pair.source, pair.target
    wrong = f"Wrong-{tag()}"
    details = failing(source, target, epm_body(target.server, wrong), LOGIN, 6)
    assert ADMIN in details and "login" in details.lower(), details
    secret_free(details, json.dumps(ok(source.http.get(STATUS))), secrets=(wrong, b64(wrong)))


def test_target_user_must_be_a_service_administrator(pair: Pair) -> None:
    source, target = pair.source, pair.target
    login, password = make_user(target.http, "Power User", "Identity Domain Administrator")
    body = {**epm_body(target.server, password), "targetUserName": login}
    details = failing(source, target, body, LOGIN, 7)
    assert login in details and "Service Administrator" in details, details


def test_migrate_users_needs_an_identity_domain_administrator(pair: Pair) -> None:
    source, target = pair.source, pair.target
    login, password = make_user(target.http, "Service Administrator")
    body = {**epm_body(target.server, password, {"migrateUsers": "true"}), "targetUserName": login}
    details = failing(source, target, body, LOGIN, 7)
    assert login in details and "Identity Domain Administrator" in details, details
    # The same user may clone without the users.
    check_started(ok(source.http.post(CLONE, json={**body, "parameters": {"migrateUsers": False}})), source.server)
    assert poll_status(source.http)["status"] == 0


def test_version_two_years_newer_is_refused(pair: Pair, newer: Env) -> None:
    details = failing(pair.source, newer, epm_body(newer.server, newer.password), VERSION, 13)
    assert "26.10" in details and "24.10" in details, details


def test_service_type_mismatch_is_refused(pair: Pair, narrative: Pair) -> None:
    target = narrative.target
    details = failing(pair.source, target, epm_body(target.server, target.password), SERVICE, 14)
    assert "Narrative Reporting" in details and "Planning" in details, details


def test_source_equal_to_target_is_refused(pair: Pair) -> None:
    source = pair.source
    body = {**epm_body(source.server, source.password), "targetURL": source.server.url + "/"}
    details = failing(source, source, body, LOGIN, 2)
    assert "this environment" in details, details


def test_snapshot_not_found_is_a_synchronous_404(pair: Pair) -> None:
    source, target = pair.source, pair.target
    unchanged = Unchanged.of(source, target)
    ops, status = operation_ids(source.http), source.http.get(STATUS).json()
    body = epm_body(target.server, target.password, {"snapshotName": "No such snapshot"})
    details = epm_error(source.http.post(CLONE, json=body), 404)
    assert "No such snapshot" in details, details
    assert operation_ids(source.http) == ops and source.http.get(STATUS).json() == status
    unchanged.check()


@pytest.mark.parametrize(
    ("case", "http_status"),
    [
        ("malformed JSON", 400),
        ("no targetURL", 422),
        ("no targetUserName", 422),
        ("password not base64", 422),
        ("targetURL not a URL", 422),
        ("boolean placeholder", 422),
        ("unknown boolean word", 422),
    ],
)
def test_bad_requests_are_refused_before_anything_starts(pair: Pair, case: str, http_status: int) -> None:
    source, target = pair.source, pair.target
    good = epm_body(target.server, target.password)
    bodies: dict[str, Any] = {
        "malformed JSON": '{"targetURL": "' + target.server.url + '", ',
        "no targetURL": {k: v for k, v in good.items() if k != "targetURL"},
        "no targetUserName": {k: v for k, v in good.items() if k != "targetUserName"},
        "password not base64": {**good, "targetEncryptPassword": "not base64!"},
        "targetURL not a URL": {**good, "targetURL": "<TARGET-BASE-URL>"},
        "boolean placeholder": {**good, "parameters": {"dataManagement": "<TRUE/FALSE>"}},
        "unknown boolean word": {**good, "parameters": {"migrateUsers": "yes"}},
    }
    body = bodies[case]
    ops, theirs = operation_ids(source.http), digests(target.http)
    headers = {"Content-Type": "application/json"}
    content = body if isinstance(body, str) else json.dumps(body)
    details = epm_error(source.http.post(CLONE, content=content, headers=headers), http_status)
    assert details
    assert operation_ids(source.http) == ops and digests(target.http) == theirs


def test_clone_while_a_restore_runs_is_409(pg_pair: Pair, pair: Pair) -> None:
    """On a PostgreSQL source, where a request is not held behind the restore's write transaction
    (on SQLite it waits for it and may then be accepted, once the restore has ended)."""
    source, target = pg_pair.source, pair.target
    backup = run_maintenance(source.http, source.server)["environmentBackup"]
    theirs, ops = digests(target.http), operation_ids(target.http)
    started = ok(source.http.post(RESTORE, json={"backupName": backup}))
    details = epm_error(source.http.post(CLONE, json=epm_body(target.server, target.password)), 409)
    assert "restoreEnvironment" in details, details
    wait_job(source.http, started["links"][0]["href"], deadline=60)
    assert digests(target.http) == theirs and operation_ids(target.http) == ops


# --- the target password stays secret ---------------------------------------------------------------
def test_the_target_password_appears_nowhere(pair: Pair) -> None:
    source, target = pair.source, pair.target
    password, wrong = target.new_password(), f"Wrong-{tag()}-pw"
    texts: list[str] = []
    for secret, expected in ((password, 0), (wrong, 6)):
        response = source.http.post(CLONE, json=epm_body(target.server, secret, {"migrateUsers": False}))
        texts.append(response.text)
        final = poll_status(source.http)
        assert final["status"] == expected, final
        for language in ("en", "fr"):
            texts.append(source.http.get(STATUS, headers={"Accept-Language": language}).text)
    for http in (source.http, target.http):
        listing = http.get("/v1/operations", params={"limit": 1000})
        texts.append(listing.text)
        texts.extend(http.get(f"/v1/operations/{op['id']}").text for op in listing.json()["items"])
        texts.extend(http.get(f"/v1/operations/{op['number']}").text for op in listing.json()["items"])
    secrets = (password, b64(password), wrong, b64(wrong), TARGET_PASSWORD, b64(TARGET_PASSWORD))
    secret_free(*texts, secrets=secrets)
    secret_free(source.server.log(), target.server.log(), secrets=secrets)
    for server in (source.server, target.server):
        data = sqlite_bytes(server)
        assert len(data) > 0
        for secret in secrets:
            assert secret.encode() not in data, f"{secret!r} stored in {server.database_url}"
    secret_free(operation_rows(source.server), operation_rows(target.server), secrets=secrets)


# --- an interrupted transfer ------------------------------------------------------------------------
FILES_ONLY = {"storedSnapshotsAndFiles": True, "dataManagement": False, "jobConsole": False, "applicationAudit": False}


def test_killing_the_target_mid_transfer_fails_cleanly_and_the_next_clone_resumes(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("medium")
    db_url = f"sqlite:///{tmp / 'envclone.db'}"
    seed_directly(tmp / "data", db_url, "medium")
    source = env_of(servers.start(data_dir=tmp / "data", db_url=db_url), ADMIN_PASSWORD)
    target = _target(servers)
    before = digests(target.http)
    chunk_folders = [target.server.data_dir / "blobs" / folder for folder in ("packs", "chunks")]

    def chunk_files() -> set[Path]:
        return {path for folder in chunk_folders if folder.exists() for path in folder.rglob("*") if path.is_file()}

    had = chunk_files()
    check_started(ok(source.http.post(CLONE, json=epm_body(target.server, target.password, FILES_ONLY))), source.server)

    # Kill the target once some chunks it received are stored (in a pack it sealed, as it does with
    # a pack open for a few seconds; or one file each) and before the last has arrived.
    end = time.monotonic() + 120
    while True:
        op = latest_clone(source.http)
        progress = op["progress"]
        assert op["status"] in ("queued", "running"), op
        transferring = progress["phase"] == "transfer" and 0 < progress["bytes_done"] < progress["bytes_total"]
        if transferring and chunk_files() - had:
            break
        assert time.monotonic() < end, op
        time.sleep(0.02)
    assert target.server.process is not None
    target.server.process.kill()
    target.server.process.wait(10)
    running = ok(source.http.get(STATUS))
    assert running["status"] == -1, running
    assert running["intermittentStatus"][-1] == {RECREATE: "In Progress"}, running
    assert running["intermittentStatus"][: len(DOCUMENTED) - 1] == [{s: "Success"} for s in DOCUMENTED[:-1]]

    final = poll_status(source.http, deadline=120)  # retries a few times with backoff, then gives up
    details = check_failed(final, RECREATE, None)
    # A target that went away mid-transfer is not an internal error of the source's.
    assert final["status"] != 1 and not details.startswith("internal error"), final

    restarted = env_of(servers.restart(target.server), target.password)
    assert digests(restarted.http) == before, "the target was left half-applied"
    check_started(
        ok(source.http.post(CLONE, json=epm_body(restarted.server, restarted.password, FILES_ONLY))), source.server
    )
    final = poll_status(source.http, deadline=180)
    check_succeeded(final, {"storedSnapshotsAndFiles": "Success", "dataManagement": "NA"})
    result = latest_clone(source.http)["result"]
    assert result["chunksSent"] < result["chunks"], result
    assert result["bytesSent"] < result["bytesTotal"], result
    after, theirs = digests(restarted.http), digests(source.http)
    chosen = copied(effective(source))
    assert {c: after[c] for c in chosen} == {c: theirs[c] for c in chosen}
