"""Reading, listing and cancelling operations, whatever their kind. Starting one is the job of
the service for that kind (restore, clone...), which resolves and checks its request first. What
a reader sees of an operation is filtered here (_redaction): names of peers and people are for
administrators."""

from __future__ import annotations

from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import NotFound
from envclone.services._redaction import for_reader
from envclone.services.context import ServiceContext
from envclone.store import operations as repo


def get_operation(ctx: ServiceContext, who: Principal, ref: str) -> Operation:
    """By id, or by number (the job id the EPM dialect hands out)."""
    who.require(Permission.READ_CONTENT)
    return for_reader(who, ctx.engine.get(_op_id(ctx, ref)))


def peek_operation(ctx: ServiceContext, who: Principal, ref: str) -> Operation | None:
    """get_operation without I/O, for an API's event loop: the operation if ``ref`` is the id of
    one running in this process, None when only get_operation can tell (a number, an operation
    that ended or runs elsewhere, or one that does not exist)."""
    who.require(Permission.READ_CONTENT)
    running = ctx.engine.running(ref) if len(ref) == 32 else None
    return for_reader(who, running) if running is not None else None


def get_by_number(ctx: ServiceContext, who: Principal, seq: int) -> Operation:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        op_id = repo.load_seq(conn, seq).id
    return for_reader(who, ctx.engine.get(op_id))  # the engine's live view while it runs here


def _op_id(ctx: ServiceContext, ref: str) -> str:
    if not (ref.isascii() and ref.isdigit()):  # "²" is a digit to Python, not a number
        return ref
    if len(ref) > 19:  # past 64 bits: no such number (and int() refuses thousands of digits)
        raise NotFound(f"operation {ref[:40]}... not found")
    with ctx.db.read() as conn:
        return repo.load_seq(conn, int(ref)).id


def latest(ctx: ServiceContext, who: Principal, kind: str) -> Operation | None:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        found = repo.latest(conn, kind)
    return for_reader(who, ctx.engine.get(found.id)) if found else None


def list_operations(
    ctx: ServiceContext, who: Principal, *, kind: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Operation], int]:
    """One page, newest first, and how many match in all."""
    who.require(Permission.READ_CONTENT)
    with ctx.db.snapshot() as conn:
        listed = repo.listing(conn, kind=kind, status=status, limit=limit, offset=offset)
        total = repo.count(conn, kind=kind, status=status)
    # Running ones as the engine sees them, as get does.
    return [for_reader(who, ctx.engine.live(op)) for op in listed], total


def cancel(ctx: ServiceContext, who: Principal, ref: str) -> Operation:
    """Cancel by id or number. Accepted means the operation stops and changes nothing; refused
    (409 not_cancellable) once it has ended or passed its point of no return (engine.cancel)."""
    who.require(Permission.MIGRATE)
    return for_reader(who, ctx.engine.cancel(_op_id(ctx, ref)))
