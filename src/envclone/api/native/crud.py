"""Mounts list/get/create/update/delete routes for one services Resource. Key and scope values come
from the path; bodies are validated against the resource's models here, then handed to services."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model, validate
from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.paging import page_body, paging
from envclone.api.native.responses import errors
from envclone.api.native.schemas import Batch
from envclone.domain.principal import Principal
from envclone.services import resource as svc
from envclone.services.resource import Resource

# The type of every key that a content path names: what the create model takes for it.
KEY_TYPES: dict[str, Any] = {
    "login": s.Name,
    "name": s.Name,
    "group_name": s.Name,
    "member_kind": s.Kind,
    "member_name": s.Name,
    "principal_kind": s.Kind,
    "principal_name": s.Name,
    "role_name": s.Name,
    "id": s.Hex32,
    "project_id": s.Hex32,
    "uid": s.Short,
}


@dataclass(frozen=True)
class Crud:
    path: str  # collection path, with the scope parameter if any: "/projects/{project_id}/objects"
    resource: Resource
    create: type[BaseModel]
    model: type[BaseModel]  # what one item looks like in answers
    update: type[BaseModel] | None = None
    batch: bool = False
    tag: str = "content"

    @property
    def item_path(self) -> str:
        return self.path + "".join(f"/{{{k}}}" for k in self.resource.repo.key if k != self.resource.scope)

    def path_parameters(self, path: str) -> list[dict[str, Any]]:
        """The path's parameters for OpenAPI (handlers read them from ``request.path_params``),
        typed and bounded as the resource's keys are."""
        names = re.findall(r"{(\w+)}", path)
        return [
            {"name": n, "in": "path", "required": True, "schema": TypeAdapter(KEY_TYPES[n]).json_schema()}
            for n in names
        ]


def _scope(crud: Crud, request: Request) -> str | None:
    return request.path_params.get(crud.resource.scope) if crud.resource.scope else None


def _values(model: BaseModel) -> dict[str, Any]:
    values = getattr(model, "values", None)
    return values() if callable(values) else model.model_dump(exclude_unset=True)


def mount(router: APIRouter, crud: Crud) -> None:
    res = crud.resource
    limit = 16 * 1024 * 1024
    who_dep = Depends(authenticated)

    async def list_route(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        limit_, offset, filters = paging(request)
        page = await run_in_threadpool(
            svc.list_items,
            context(request),
            who,
            res,
            scope=_scope(crud, request),
            filters=filters,
            limit=limit_,
            offset=offset,
        )
        return page_body(page)

    async def get_route(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await run_in_threadpool(svc.get_item, context(request), who, res, dict(request.path_params))

    async def create_route(request: Request, response: Response, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, crud.create, limit)
        response.status_code = 201
        return await run_in_threadpool(
            svc.create_item, context(request), who, res, _values(body), scope=_scope(crud, request)
        )

    async def batch_route(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        batch = await read_model(request, Batch, limit)
        items = [_values(validate(crud.create, item)) for item in batch.items]
        count = await run_in_threadpool(
            svc.create_items, context(request), who, res, items, scope=_scope(crud, request)
        )
        return {"created": count}

    async def update_route(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        assert crud.update is not None
        body = await read_model(request, crud.update, limit)
        return await run_in_threadpool(
            svc.update_item, context(request), who, res, dict(request.path_params), _values(body)
        )

    async def delete_route(request: Request, who: Principal = who_dep) -> Response:
        await run_in_threadpool(svc.delete_item, context(request), who, res, dict(request.path_params))
        return Response(status_code=204)

    write_errors = (400, 401, 403, 404, 409, 413, 422)
    page = s.Page[crud.model]  # type: ignore[name-defined]
    routes = [
        _Route(
            "list", crud.path, list_route, "GET", answer=page, errors=(400, 401, 403, *((404,) if res.scope else ()))
        ),
        _Route("create", crud.path, create_route, "POST", crud.create, 201, crud.model, write_errors),
        _Route("get", crud.item_path, get_route, "GET", answer=crud.model, errors=(401, 403, 404)),
        _Route("delete", crud.item_path, delete_route, "DELETE", status=204, errors=(401, 403, 404, 409)),
    ]
    if crud.batch:
        routes.insert(
            2, _Route("batch", crud.path + "/batch", batch_route, "POST", Batch, 200, s.Created, write_errors)
        )
    if crud.update is not None:
        routes.insert(
            -1, _Route("update", crud.item_path, update_route, "PATCH", crud.update, 200, crud.model, write_errors)
        )
    name = res.repo.table.name
    for route in routes:
        extra: dict[str, Any] = {"parameters": crud.path_parameters(route.path)}
        if route.body:
            extra.update(body_schema(route.body))
        documented: dict[int | str, Any] = {route.status: {"model": route.answer}} if route.answer else {}
        router.add_api_route(
            route.path,
            route.handler,
            methods=[route.method],
            name=f"{route.verb}_{name}",
            tags=[crud.tag],
            openapi_extra=extra,
            status_code=route.status,
            response_model=None,
            responses={**documented, **errors(*route.errors)},
        )


class _Route(NamedTuple):
    """One route of a collection: every collection gets the same names, tags, documented bodies,
    answers and errors."""

    verb: str
    path: str
    handler: Callable[..., Any]
    method: str
    body: type[BaseModel] | None = None
    status: int = 200
    answer: Any = None
    errors: tuple[int, ...] = ()
