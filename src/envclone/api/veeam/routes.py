"""Enterprise Manager routes under /api: parse Veeam's request, call a service, render Veeam's
response in XML (the default) or JSON (on Accept). Every route declares its parameters, body and
error responses so that OpenAPI shows the contract; every one takes the ``v`` parameter clients
add to each call."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, validate
from envclone.api.credentials import context
from envclone.api.veeam import auth, media, render, schemas
from envclone.api.veeam.render import JOB_URN, REPOSITORY_URN, base, urn
from envclone.domain.operation import Operation
from envclone.domain.principal import Principal
from envclone.errors import NotFound
from envclone.services import authentication, job_clone, job_runs, jobs, tasks

PREFIX = "/api"
who_dep = Depends(auth.authenticated)
Format = Literal["Entity", "Ref"]
Action = Literal["clone", "start", "stop"]
FORMAT = Query(None, description="Entity for the entities themselves; references by default")


async def version(v: str | None = Query(None, description="the API version a client names; any is accepted")) -> None:
    """Declares ``v`` on every route (OpenAPI); envclone serves one version of each resource."""


def _ok(model: Any, status: int = 200, description: str = "OK", **extra: Any) -> dict[int | str, Any]:
    content = {"application/xml": {"schema": {"type": "string"}}}
    return {status: {"model": model, "description": description, "content": content, **extra}}


def _id(description: str, pattern: str) -> Any:
    """A path id documented by ``pattern``; what lies outside it is looked up as before, not found."""
    return Path(description=description, json_schema_extra={"pattern": pattern})


_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
JobId = Annotated[str, _id("the job's UUID, or its whole URN", rf"^({render.JOB_URN})?{_UUID}$")]
RepositoryId = Annotated[str, _id("the repository's UUID, or its URN", rf"^({render.REPOSITORY_URN})?{_UUID}$")]
RunId = Annotated[str, _id("the backup session's UUID, or its URN", rf"^({render.SESSION_URN})?{_UUID}$")]
LogonId = Annotated[str, _id("the logon session's UUID", rf"^{_UUID}$")]
TaskId = Annotated[str, _id("the task's id", rf"^{render.TASK_PREFIX}[0-9]{{1,18}}$")]


def _errors(*statuses: int) -> dict[int | str, Any]:
    texts = {
        400: "the body or a parameter is not valid (malformed XML or JSON, a rule of the request)",
        401: "no logon session, or it has expired; on logon, the credentials are wrong",
        403: "the user lacks the role",
        404: "no such job, repository, task or logon session",
        409: "stop: the job is not running; start: another run or a restore holds the environment; "
        "a task that can no longer be stopped",
        415: "the body is neither application/xml nor application/json",
    }
    return {s: {"model": schemas.Error, "description": texts[s]} for s in statuses}


_SPEC = body_schema(schemas.JobCloneSpec, required=False)  # for action=clone only
_SPEC["requestBody"]["content"]["application/xml"] = _SPEC["requestBody"]["content"]["application/json"]
_SESSION_HEADERS = {
    auth.SESSION_HEADER: {"description": "the logon session's id for later requests", "schema": {"type": "string"}},
    "Set-Cookie": {"description": f"{auth.COOKIE}, the same session", "schema": {"type": "string"}},
}


def build_router() -> APIRouter:
    # Any other client error is an Error too; declaring the range also keeps FastAPI from documenting
    # its own validation error, which Veeam never sends (invalid input is a 400).
    any_error: dict[int | str, Any] = {
        "4XX": {"model": schemas.Error, "description": "another client error, as an Error"}
    }
    router = APIRouter(prefix=PREFIX, tags=["Veeam"], dependencies=[Depends(version)], responses=any_error)
    _session_routes(router)
    _repository_routes(router)
    _job_routes(router)
    _backup_session_routes(router)
    _task_routes(router)
    return router


def _session_routes(router: APIRouter) -> None:
    @router.get("/", response_class=Response, responses=_ok(schemas.EnterpriseManager))
    async def entry(request: Request) -> Response:
        """The supported versions and the logon link; no session needed."""
        return media.render(request, render.enterprise_manager(base(request)), "EnterpriseManager")

    @router.post(
        "/sessionMngr/",
        status_code=201,
        response_class=Response,
        responses={**_ok(schemas.LogonSession, 201, "logged on", headers=_SESSION_HEADERS), **_errors(401)},
    )
    async def log_on(request: Request) -> Response:
        """Log on with HTTP Basic; the session id comes back in X-RestSvcSessionId and a cookie."""
        user, token, expires = await auth.log_on(request)
        body = render.logon_session(base(request), user, auth.session_id(token))
        response = media.render(request, body, "LogonSession", status=201)
        auth.start_session(response, token, expires)
        return response

    @router.get("/logonSessions", response_class=Response, responses={**_ok(schemas.LogonSessions), **_errors(401)})
    async def list_logon_sessions(request: Request, who: Principal = who_dep) -> Response:
        """The logon sessions this client may see: its own (others' ids are not shown)."""
        own = render.logon_session(base(request), who.login, auth.session_id(auth.token_of(request)))
        return media.render(request, schemas.LogonSessions(logon_sessions=[own]), "LogonSessions")

    @router.get(
        "/logonSessions/{session_id}",
        response_class=Response,
        responses={**_ok(schemas.LogonSession), **_errors(401, 404)},
    )
    async def get_logon_session(session_id: LogonId, request: Request, who: Principal = who_dep) -> Response:
        """This logon session (another's id is not found)."""
        _own_session(request, session_id)
        return media.render(request, render.logon_session(base(request), who.login, session_id), "LogonSession")

    @router.delete("/logonSessions/{session_id}", status_code=204, response_class=Response, responses=_errors(401, 404))
    async def log_off(session_id: LogonId, request: Request, who: Principal = who_dep) -> Response:
        """End this logon session; its id is refused from now on."""
        token = _own_session(request, session_id)
        await run_in_threadpool(authentication.revoke_token, context(request), token)
        response = Response(status_code=204)
        auth.end_session(response)
        return response


def _own_session(request: Request, session_id: str) -> str:
    token = auth.token_of(request)
    if auth.session_id(token) != session_id:
        raise NotFound(f"logon session {session_id} not found")
    return token


def _repository_routes(router: APIRouter) -> None:
    @router.get(
        "/repositories",
        response_class=Response,
        responses={**_ok(schemas.EntityReferences | schemas.Repositories), **_errors(400, 401, 403)},
    )
    async def list_repositories(request: Request, format: Format | None = FORMAT, who: Principal = who_dep) -> Response:
        """Every backup repository, as references or (``format=Entity``) with capacity and free space."""
        ctx, root = context(request), base(request)
        rows = await run_in_threadpool(jobs.list_repositories, ctx, who)
        if format == "Entity":
            shown = [render.repository(root, r, *await run_in_threadpool(jobs.repository_space, ctx, r)) for r in rows]
            return media.render(request, schemas.Repositories(repositories=shown), "Repositories")
        refs = schemas.EntityReferences(refs=[render.repository_ref(root, r) for r in rows])
        return media.render(request, refs, "EntityReferences")

    @router.get(
        "/repositories/{repository_id}",
        response_class=Response,
        responses={**_ok(schemas.Ref | schemas.Repository), **_errors(400, 401, 403, 404)},
    )
    async def get_repository(
        repository_id: RepositoryId, request: Request, format: Format | None = FORMAT, who: Principal = who_dep
    ) -> Response:
        """One repository by its UUID, as a reference or (``format=Entity``) the entity."""
        ctx, root = context(request), base(request)
        row = await run_in_threadpool(jobs.get_repository, ctx, who, urn(REPOSITORY_URN, repository_id))
        if format == "Entity":
            space = await run_in_threadpool(jobs.repository_space, ctx, row)
            return media.render(request, render.repository(root, row, *space), "Repository")
        return media.render(request, render.repository_ref(root, row), "Ref")


def _job_routes(router: APIRouter) -> None:
    @router.get(
        "/jobs",
        response_class=Response,
        responses={**_ok(schemas.EntityReferences | schemas.Jobs), **_errors(400, 401, 403)},
    )
    async def list_jobs(request: Request, format: Format | None = FORMAT, who: Principal = who_dep) -> Response:
        """Every job, as references or (``format=Entity``) entities."""
        rows, root = await run_in_threadpool(jobs.list_jobs, context(request), who), base(request)
        if format == "Entity":
            return media.render(request, schemas.Jobs(jobs=[render.job(root, r) for r in rows]), "Jobs")
        return media.render(
            request, schemas.EntityReferences(refs=[render.job_ref(root, r) for r in rows]), "EntityReferences"
        )

    @router.get(
        "/jobs/{job_id}",
        response_class=Response,
        responses={**_ok(schemas.Ref | schemas.Job), **_errors(400, 401, 403, 404)},
    )
    async def get_job(
        job_id: JobId, request: Request, format: Format | None = FORMAT, who: Principal = who_dep
    ) -> Response:
        """One job by its UUID, as a reference or (``format=Entity``) the entity."""
        row = await run_in_threadpool(jobs.get_job, context(request), who, urn(JOB_URN, job_id))
        if format == "Entity":
            return media.render(request, render.job(base(request), row), "Job")
        return media.render(request, render.job_ref(base(request), row), "Ref")

    @router.post(
        "/jobs/{job_id}",
        status_code=202,
        response_class=Response,
        openapi_extra=_SPEC,
        responses={**_ok(schemas.Task, 202, "the task, running"), **_errors(400, 401, 403, 404, 409, 415)},
    )
    async def job_action(
        job_id: JobId,
        request: Request,
        action: Action = Query(description="clone (a JobCloneSpec in the body), start or stop a run"),
        who: Principal = who_dep,
    ) -> Response:
        """Clone the job (exactly one clone info, of the job's kind, in XML or JSON as Content-Type
        says), start a run of it, or stop its run: each a task."""
        ctx, uid = context(request), urn(JOB_URN, job_id)
        if action == "clone":
            spec = validate(schemas.JobCloneSpec, await media.read_body(request, "JobCloneSpec"))
            op = await run_in_threadpool(job_clone.start_job_clone, ctx, who, spec.request(uid))
        elif action == "start":
            op = await run_in_threadpool(job_runs.start_job, ctx, who, uid)
        else:
            op = await run_in_threadpool(job_runs.stop_job, ctx, who, uid)
        return media.render(request, render.task(base(request), op), "Task", status=202)

    @router.get(
        "/jobs/{job_id}/backupSessions",
        response_class=Response,
        responses={**_ok(schemas.EntityReferences | schemas.BackupJobSessions), **_errors(400, 401, 403, 404)},
    )
    async def job_sessions(
        job_id: JobId,
        request: Request,
        format: Format | None = FORMAT,
        who: Principal = who_dep,
    ) -> Response:
        """The job's runs, newest first."""
        ctx, uid = context(request), urn(JOB_URN, job_id)
        await run_in_threadpool(jobs.get_job, ctx, who, uid)
        return _sessions(request, await run_in_threadpool(job_runs.list_runs, ctx, who, uid), format)


def _sessions(request: Request, runs: list[Operation], format: Format | None) -> Response:
    root = base(request)
    if format == "Entity":
        shown = schemas.BackupJobSessions(backup_job_sessions=[render.session(root, op) for op in runs])
        return media.render(request, shown, "BackupJobSessions")
    refs = schemas.EntityReferences(refs=[render.session_ref(root, op) for op in runs])
    return media.render(request, refs, "EntityReferences")


def _backup_session_routes(router: APIRouter) -> None:
    @router.get(
        "/backupSessions",
        response_class=Response,
        responses={**_ok(schemas.EntityReferences | schemas.BackupJobSessions), **_errors(400, 401, 403)},
    )
    async def list_backup_sessions(
        request: Request, format: Format | None = FORMAT, who: Principal = who_dep
    ) -> Response:
        """Every job run, newest first (the latest 1000)."""
        return _sessions(request, await run_in_threadpool(job_runs.list_runs, context(request), who), format)

    @router.get(
        "/backupSessions/{session_id}",
        response_class=Response,
        responses={**_ok(schemas.Ref | schemas.BackupJobSession), **_errors(400, 401, 403, 404)},
    )
    async def get_backup_session(
        session_id: RunId, request: Request, format: Format | None = FORMAT, who: Principal = who_dep
    ) -> Response:
        """One run, as a reference or (``format=Entity``) with its state, result and progress."""
        op = await run_in_threadpool(job_runs.get_run, context(request), who, render.operation_id(session_id))
        if format == "Entity":
            return media.render(request, render.session(base(request), op), "BackupJobSession")
        return media.render(request, render.session_ref(base(request), op), "Ref")


def _task_routes(router: APIRouter) -> None:
    @router.get("/tasks/{task_id}", response_class=Response, responses={**_ok(schemas.Task), **_errors(401, 403, 404)})
    async def get_task(task_id: TaskId, request: Request, who: Principal = who_dep) -> Response:
        """The task: Running, then Finished with its Result (and a Related link to what it made)."""
        op = await run_in_threadpool(tasks.get_task, context(request), who, render.task_number(task_id))
        return media.render(request, render.task(base(request), op), "Task")

    @router.delete("/tasks/{task_id}", status_code=204, response_class=Response, responses=_errors(401, 403, 404, 409))
    async def delete_task(task_id: TaskId, request: Request, who: Principal = who_dep) -> Response:
        """Stop a running task (its change is not made) or remove a finished task's record."""
        await run_in_threadpool(tasks.end_task, context(request), who, render.task_number(task_id))
        return Response(status_code=204)
