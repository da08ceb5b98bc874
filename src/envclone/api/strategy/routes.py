"""Strategy Library routes: parse Strategy's request, call a service, render Strategy's response.
Paths are Strategy's, under /MicroStrategyLibrary/api; every route declares its body, headers
and error responses so that OpenAPI shows the contract."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.credentials import context
from envclone.api.strategy import auth, duplications, render, schemas, storage
from envclone.api.strategy.errors import ProjectNotFound
from envclone.api.strategy.responses import ANY_CLIENT_ERROR, ObjectId, ProjectRef, errors, who_dep
from envclone.domain.principal import Principal
from envclone.errors import NotFound
from envclone.services import authentication, content_resources, resource

PREFIX = "/MicroStrategyLibrary/api"
PAGE = 1000
PROJECT_TYPE = 32  # Strategy's object type of a project
TOTAL_HEADER = "X-MSTR-Total-Count"


_LOGIN_SCHEMA = schemas.LoginRequest.model_json_schema(by_alias=True)
LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _LOGIN_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
        },
    }
}
_SESSION_HEADERS = {
    auth.TOKEN_HEADER: {"description": "the session's token", "schema": {"type": "string"}},
    "Set-Cookie": {"description": f"{auth.COOKIE}, the same session", "schema": {"type": "string"}},
}


def build_router() -> APIRouter:
    router = APIRouter(
        prefix=PREFIX, tags=["Strategy"], dependencies=[Depends(auth.project_header)], responses=ANY_CLIENT_ERROR
    )
    _auth_routes(router)
    _session_routes(router)
    _project_routes(router)
    duplications.add_routes(router)
    storage.add_routes(router)
    return router


def _auth_routes(router: APIRouter) -> None:
    @router.post(
        "/auth/login",
        status_code=204,
        openapi_extra=LOGIN_BODY,
        responses={204: {"description": "logged in", "headers": _SESSION_HEADERS}, **errors(400, 401)},
    )
    async def login(request: Request) -> Response:
        """Log in with a user name and password; the token comes back in X-MSTR-AuthToken."""
        body = await auth.read_login(request)
        token, expires = await run_in_threadpool(
            authentication.open_session,
            context(request),
            body.username,
            body.password.get_secret_value(),
            kind=auth.session_kind(body.application_type),
        )
        response = Response(status_code=204)
        auth.start_session(response, token, expires)
        return response

    @router.post("/auth/logout", status_code=204, responses=errors(401))
    async def logout(request: Request, who: Principal = who_dep) -> Response:
        """End this session; its token is refused from now on."""
        await run_in_threadpool(authentication.revoke_token, context(request), auth.token_of(request))
        response = Response(status_code=204)
        auth.end_session(response)
        return response

    @router.get("/status", response_model=schemas.Status)
    async def status() -> schemas.Status:
        """The server's versions, in Strategy's dotted form; no session needed."""
        return render.status()


def _session_routes(router: APIRouter) -> None:
    @router.get("/sessions", response_model=schemas.SessionInfo, responses=errors(401))
    async def session(request: Request, who: Principal = who_dep) -> schemas.SessionInfo:
        """This session's user and its timeout in seconds."""
        ctx = context(request)
        profile = await run_in_threadpool(authentication.profile, ctx, who)
        return render.session(profile, ctx.settings.session_ttl_seconds)

    @router.put("/sessions", status_code=204, responses=errors(401))
    async def renew(request: Request, who: Principal = who_dep) -> Response:
        """Restart this session's time."""
        await run_in_threadpool(
            authentication.renew_session, context(request), auth.token_of(request), kind=auth.kind_of(request)
        )
        return Response(status_code=204)

    @router.get("/sessions/userInfo", response_model=schemas.UserInfo, responses=errors(401))
    async def user_info(request: Request, who: Principal = who_dep) -> schemas.UserInfo:
        """The session's user."""
        return render.user(await run_in_threadpool(authentication.profile, context(request), who))


def _all_projects(request: Request, who: Principal) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = resource.list_items(context(request), who, content_resources.PROJECTS, limit=PAGE, offset=len(rows))
        rows += page.items
        if not page.items or len(rows) >= page.total:
            return rows


def _project_routes(router: APIRouter) -> None:
    @router.get("/projects", response_model=list[schemas.Project], responses=errors(401, 403))
    async def list_projects(request: Request, who: Principal = who_dep) -> list[schemas.Project]:
        """Every project the user may read."""
        rows = await run_in_threadpool(_all_projects, request, who)
        return [render.project(row) for row in rows]

    @router.get("/projects/{project_id}", response_model=schemas.Project, responses=errors(401, 403, 404))
    async def get_project(project_id: ProjectRef, request: Request, who: Principal = who_dep) -> schemas.Project:
        """One project by id (or by name, as the SDK sometimes asks)."""
        return render.project(await run_in_threadpool(_one_project, request, who, project_id))

    @router.get(
        "/monitors/projects",
        response_model=schemas.ProjectList,
        responses={200: {"headers": {TOTAL_HEADER: {"schema": {"type": "integer"}}}}, **errors(400, 401, 403)},
    )
    async def monitor_projects(
        request: Request,
        response: Response,
        offset: int = Query(0, ge=0),
        limit: int = Query(-1, ge=-1, description="-1: no limit"),
        who: Principal = who_dep,
    ) -> schemas.ProjectList:
        """Projects page by page, with their total in X-MSTR-Total-Count."""
        rows = await run_in_threadpool(_all_projects, request, who)
        response.headers[TOTAL_HEADER] = str(len(rows))
        chosen = rows[offset:] if limit < 0 else rows[offset : offset + limit]
        return schemas.ProjectList(projects=[render.project(row) for row in chosen])

    @router.get(
        "/objects/{object_id}",
        response_model=schemas.ProjectObject,
        responses=errors(400, 401, 403, 404, texts={404: "ERR004: no project with this id, or another type"}),
    )
    async def get_object(
        object_id: ObjectId,
        request: Request,
        object_type: int = Query(alias="type", description="32 (project) is the only type served so far"),
        who: Principal = who_dep,
    ) -> schemas.ProjectObject:
        """A project as a metadata object; ERR004 (404) for an unknown id or another type."""
        if object_type != PROJECT_TYPE:
            raise NotFound(f"object {object_id} of type {object_type} not found: only projects (type 32) are served")
        try:
            row = await run_in_threadpool(_one_project, request, who, object_id, False)
        except ProjectNotFound:
            raise NotFound(f"object {object_id} of type {object_type} not found") from None
        return render.project_object(row)


def _one_project(request: Request, who: Principal, key: str, by_name: bool = True) -> dict[str, Any]:
    ctx = context(request)
    try:
        return resource.get_item(ctx, who, content_resources.PROJECTS, {"id": key})
    except NotFound:
        if not by_name:
            raise ProjectNotFound(f"project {key} not found") from None
        named = resource.list_items(ctx, who, content_resources.PROJECTS, filters={"name": key}, limit=1).items
    if not named:
        raise ProjectNotFound(f"project {key} not found")
    return named[0]
