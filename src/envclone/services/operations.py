"""Reading, listing and cancelling operations, whatever their kind. Starting one is the job of
the service for that kind (restore, clone...), which resolves and checks its request first."""

from __future__ import annotations

from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.services.context import ServiceContext
from envclone.store import operations as repo


def get_operation(ctx: ServiceContext, who: Principal, op_id: str) -> Operation:
    who.require(Permission.READ_CONTENT)
    return ctx.engine.get(op_id)


def get_by_number(ctx: ServiceContext, who: Principal, seq: int) -> Operation:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        op_id = repo.load_seq(conn, seq).id
    return ctx.engine.get(op_id)  # the engine's live view while it runs here


def latest(ctx: ServiceContext, who: Principal, kind: str) -> Operation | None:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        found = repo.latest(conn, kind)
    return ctx.engine.get(found.id) if found else None


def list_operations(
    ctx: ServiceContext, who: Principal, *, kind: str | None, status: str | None, limit: int, offset: int
) -> list[Operation]:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        listed = repo.listing(conn, kind=kind, status=status, limit=limit, offset=offset)
    return [ctx.engine.live(op) for op in listed]  # running ones as the engine sees them, as get does


def cancel(ctx: ServiceContext, who: Principal, op_id: str) -> Operation:
    who.require(Permission.MIGRATE)
    return ctx.engine.cancel(op_id)
