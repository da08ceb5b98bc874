"""envclone's records in Enterprise Manager's shapes: the entry point, logon sessions, jobs and
repositories (as references or entities), and operations as tasks. Ids in paths are the bare
UUIDs of Veeam's URNs (``urn:veeam:Job:<uuid>``); tasks are ``task-<operation number>``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request

from envclone.api.veeam import schemas
from envclone.domain import job_clone, job_run
from envclone.domain.clock import utcnow
from envclone.domain.operation import Operation, OperationStatus
from envclone.errors import NotFound

API = "/api"
VERSIONS = ("v1_4", "v1_5", "v1_6", "v1_7", "v1_8")
JOB_URN = "urn:veeam:Job:"
REPOSITORY_URN = "urn:veeam:Repository:"
TASK_PREFIX = "task-"
SESSION_URN = "urn:veeam:BackupJobSession:"
OPERATIONS: dict[str, str] = {job_clone.KIND: "CloneJob", job_run.KIND: "StartJob"}
SESSION_STATES: dict[OperationStatus, tuple[str, str]] = {  # state, result
    OperationStatus.QUEUED: ("Starting", "None"),
    OperationStatus.RUNNING: ("Working", "None"),
    OperationStatus.SUCCEEDED: ("Stopped", "Success"),
    OperationStatus.FAILED: ("Stopped", "Failed"),
    OperationStatus.CANCELLED: ("Stopped", "Failed"),
}
SUCCESS_MESSAGE = "Ok"


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + API


def bare(uid: str) -> str:
    return uid.rsplit(":", 1)[-1]


def urn(prefix: str, ident: str) -> str:
    """A path's id as a UID: a bare UUID gets the prefix; a whole URN is taken as it is."""
    return ident if ident.startswith(prefix) else prefix + ident


def task_number(task_id: str) -> int:
    number = task_id.removeprefix(TASK_PREFIX)
    if not task_id.startswith(TASK_PREFIX) or not number.isdigit() or len(number) > 18:
        raise NotFound(f"task {task_id} not found")
    return int(number)


def _link(rel: str, href: str, type_: str, name: str | None = None) -> schemas.Link:
    return schemas.Link(rel=rel, href=href, type=type_, name=name)


def enterprise_manager(root: str) -> schemas.EnterpriseManager:
    def logon(version: str) -> schemas.Link:
        return _link("Create", f"{root}/sessionMngr/?v={version}", "LogonSession")

    return schemas.EnterpriseManager(
        href=f"{root}/",
        supported_versions=[schemas.SupportedVersion(name=v, links=[logon(v)]) for v in VERSIONS],
        links=[logon("latest")],
    )


def logon_session(root: str, user: str, session: str) -> schemas.LogonSession:
    href = f"{root}/logonSessions/{session}"
    return schemas.LogonSession(
        href=href,
        links=[
            _link("Delete", href, "LogonSession"),
            _link("Up", f"{root}/", "EnterpriseManager"),
            _link("Down", f"{root}/jobs", "JobReferenceList"),
            _link("Down", f"{root}/repositories", "RepositoryReferenceList"),
        ],
        user_name=user,
        session_id=session,
    )


# --- jobs ------------------------------------------------------------------------------------------
def _job_links(root: str, href: str) -> list[schemas.Link]:
    return [
        _link("Up", f"{root}/jobs", "JobReferenceList"),
        _link("Start", f"{href}?action=start", "Task"),
        _link("Stop", f"{href}?action=stop", "Task"),
        _link("Clone", f"{href}?action=clone", "Task"),
        _link("Down", f"{href}/backupSessions", "BackupJobSessionReferenceList"),
    ]


def job_ref(root: str, row: dict[str, Any]) -> schemas.Ref:
    href = f"{root}/jobs/{bare(row['uid'])}"
    links = [_link("Alternate", f"{href}?format=Entity", "Job", row["name"]), *_job_links(root, href)]
    return schemas.Ref(uid=row["uid"], name=row["name"], href=href, type="JobReference", links=links)


def job(root: str, row: dict[str, Any]) -> schemas.Job:
    href = f"{root}/jobs/{bare(row['uid'])}"
    definition = dict(row.get("definition") or {})
    vm_suffix = definition.pop(job_clone.VM_SUFFIX, None)
    return schemas.Job(
        href=f"{href}?format=Entity",
        name=row["name"],
        uid=row["uid"],
        links=[_link("Alternate", href, "JobReference", row["name"]), *_job_links(root, href)],
        job_type=row["job_type"],
        description=row["description"],
        schedule_configured=bool(definition.get("schedule")),
        schedule_enabled=bool(row["schedule_enabled"]),
        repository_uid=row.get("repository_uid"),
        folder_name=row.get("folder_name") or None,
        vm_suffix=vm_suffix if isinstance(vm_suffix, str) else None,
        options=definition,
    )


# --- repositories ----------------------------------------------------------------------------------
def repository_ref(root: str, row: dict[str, Any]) -> schemas.Ref:
    href = f"{root}/repositories/{bare(row['uid'])}"
    links = [_link("Alternate", f"{href}?format=Entity", "Repository", row["name"])]
    return schemas.Ref(uid=row["uid"], name=row["name"], href=href, type="RepositoryReference", links=links)


def repository(root: str, row: dict[str, Any], capacity: int, free: int) -> schemas.Repository:
    href = f"{root}/repositories/{bare(row['uid'])}"
    return schemas.Repository(
        href=f"{href}?format=Entity",
        name=row["name"],
        uid=row["uid"],
        links=[_link("Alternate", href, "RepositoryReference", row["name"])],
        capacity=capacity,
        free_space=free,
        kind=row["kind"],
        description=row["description"],
    )


# --- tasks -----------------------------------------------------------------------------------------
def task(root: str, op: Operation) -> schemas.Task:
    href = f"{root}/tasks/{TASK_PREFIX}{op.seq}"
    links = [_link("Delete", href, "Task")]
    result = None
    if op.status is OperationStatus.SUCCEEDED:
        result = schemas.TaskResult(success=True, message=SUCCESS_MESSAGE)
        if op.kind == job_run.KIND:
            session_href = f"{root}/backupSessions/{session_id(op)}?format=Entity"
            links.append(_link("Related", session_href, "BackupJobSession", session_name(op)))
        elif op.result.get("jobUid"):
            job_href = f"{root}/jobs/{bare(op.result['jobUid'])}?format=Entity"
            links.append(_link("Related", job_href, "Job", op.result.get("jobName")))
    elif op.status.is_terminal:
        result = schemas.TaskResult(success=False, message=op.error_message or op.status.value)
    return schemas.Task(
        href=href,
        links=links,
        task_id=f"{TASK_PREFIX}{op.seq}",
        state="Finished" if op.status.is_terminal else "Running",
        operation=OPERATIONS.get(op.kind, op.kind),
        result=result,
    )


# --- backup sessions (job runs) --------------------------------------------------------------------
def session_id(op: Operation) -> str:
    return str(uuid.UUID(op.id))


def operation_id(ident: str) -> str:
    """A session's path id (its UUID, or its whole URN) as the operation's id."""
    try:
        return uuid.UUID(ident.removeprefix(SESSION_URN)).hex.upper()
    except ValueError:
        raise NotFound(f"backup session {ident} not found") from None


def _utc(when: dt.datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def session_name(op: Operation) -> str:
    return f"{op.result.get('jobName') or op.params.get('job_uid', '')}@{_utc(op.created)}"


def _session_links(root: str, op: Operation) -> list[schemas.Link]:
    job_uid = str(op.params.get("job_uid", ""))
    return [_link("Up", f"{root}/jobs/{bare(job_uid)}", "JobReference", op.result.get("jobName"))]


def session_ref(root: str, op: Operation) -> schemas.Ref:
    href = f"{root}/backupSessions/{session_id(op)}"
    links = [_link("Alternate", f"{href}?format=Entity", "BackupJobSession", session_name(op))]
    return schemas.Ref(
        uid=SESSION_URN + session_id(op),
        name=session_name(op),
        href=href,
        type="BackupJobSessionReference",
        links=[*links, *_session_links(root, op)],
    )


def session(root: str, op: Operation) -> schemas.BackupJobSession:
    href = f"{root}/backupSessions/{session_id(op)}"
    state, result = SESSION_STATES[op.status]
    return schemas.BackupJobSession(
        href=f"{href}?format=Entity",
        name=session_name(op),
        uid=SESSION_URN + session_id(op),
        links=[_link("Alternate", href, "BackupJobSessionReference", session_name(op)), *_session_links(root, op)],
        job_uid=str(op.params.get("job_uid", "")),
        job_name=str(op.result.get("jobName", "")),
        job_type=str(op.result.get("jobType", "")),
        creation_time_utc=_utc(op.created) or "",
        end_time_utc=_utc(op.ended),
        state=state,
        result=result,
        progress=int(op.progress_view(utcnow()).percent),
    )
