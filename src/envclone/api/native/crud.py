"""Mounts list/get/create/update/delete routes for one services Resource. Key and scope values come
from the path; bodies are validated against the resource's models here, then handed to services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model, validate
from envclone.api.credentials import context
from envclone.api.native.auth import authenticated
from envclone.api.native.paging import page_body, paging
from envclone.api.native.schemas import Batch
from envclone.domain.principal import Principal
from envclone.services import resource as svc
from envclone.services.resource import Resource


@dataclass(frozen=True)
class Crud:
    path: str  # collection path, with the scope parameter if any: "/projects/{project_id}/objects"
    resource: Resource
    create: type[BaseModel]
    update: type[BaseModel] | None = None
    batch: bool = False
    tag: str = "content"

    @property
    def item_path(self) -> str:
        return self.path + "".join(f"/{{{k}}}" for k in self.resource.repo.key if k != self.resource.scope)


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

    # (verb, path, handler, method, request body model, status): one row per route, so every
    # collection gets the same names, tags and documented bodies.
    routes: list[tuple[str, str, Callable[..., Any], str, type[BaseModel] | None, int | None]] = [
        ("list", crud.path, list_route, "GET", None, None),
        ("create", crud.path, create_route, "POST", crud.create, None),
        ("get", crud.item_path, get_route, "GET", None, None),
        ("delete", crud.item_path, delete_route, "DELETE", None, 204),
    ]
    if crud.batch:
        routes.insert(2, ("batch", crud.path + "/batch", batch_route, "POST", Batch, None))
    if crud.update is not None:
        routes.insert(-1, ("update", crud.item_path, update_route, "PATCH", crud.update, None))
    name = res.repo.table.name
    for verb, path, handler, method, body_model, status in routes:
        router.add_api_route(
            path,
            handler,
            methods=[method],
            name=f"{verb}_{name}",
            tags=[crud.tag],
            openapi_extra=body_schema(body_model) if body_model else None,
            status_code=status,
        )
