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
    return for_reader(who, _read(ctx, _op_id(ctx, ref)))


def get_by_number(ctx: ServiceContext, who: Principal, seq: int) -> Operation:
    who.require(Permission.READ_CONTENT)
    op_id = ctx.views.id_of(seq)
    if op_id is None:
        with ctx.db.read() as conn:
            op_id = repo.load_seq(conn, seq).id
    return for_reader(who, _read(ctx, op_id))  # the engine's live view while it runs here


def peek_operation(ctx: ServiceContext, who: Principal, ref: str | int) -> Operation | None:
    """get_operation (or get_by_number) without I/O, for an API's event loop: the operation if it
    runs in this process or ended a moment ago; None when only get_operation can tell."""
    who.require(Permission.READ_CONTENT)
    if isinstance(ref, int):
        op_id = ctx.views.id_of(ref)
    elif ref.isascii() and ref.isdigit():
        op_id = ctx.views.id_of(int(ref)) if len(ref) <= 19 else None
    else:
        op_id = ref
    if op_id is None:
        return None
    found = ctx.views.running(op_id, ctx.engine.running)
    return for_reader(who, found) if found is not None else None


def _read(ctx: ServiceContext, op_id: str) -> Operation:
    """The engine's view (live while the operation runs here), or one read a moment ago."""
    found = ctx.views.running(op_id, ctx.engine.running)
    if found is not None:
        return found
    epoch = ctx.views.epoch
    op = ctx.engine.get(op_id)
    ctx.views.put(op, epoch)
    return op


def _op_id(ctx: ServiceContext, ref: str) -> str:
    if not (ref.isascii() and ref.isdigit()):  # "²" is a digit to Python, not a number
        return ref
    if len(ref) > 19:  # past 64 bits: no such number (and int() refuses thousands of digits)
        raise NotFound(f"operation {ref[:40]}... not found")
    op_id = ctx.views.id_of(int(ref))
    if op_id is not None:
        return op_id
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
    return [for_reader(who, _current(ctx, op)) for op in listed], total


def _current(ctx: ServiceContext, op: Operation) -> Operation:
    """A listed operation as a single read shows it: running ones as the engine sees them (through
    the views get reads: the same progress); one that is open in the page but no longer runs here
    has ended since the page was read (its record now holds the end, which the page's stale row
    would take back), or runs in another process: read again."""
    found = ctx.views.running(op.id, ctx.engine.running)
    if found is not None or op.status.is_terminal:
        return found or op
    return _read(ctx, op.id)


def cancel(ctx: ServiceContext, who: Principal, ref: str) -> Operation:
    """Cancel by id or number. Accepted means the operation stops and changes nothing; refused
    (409 not_cancellable) once it has ended or passed its point of no return (engine.cancel)."""
    who.require(Permission.MIGRATE)
    op_id = _op_id(ctx, ref)
    try:
        return for_reader(who, ctx.engine.cancel(op_id))
    finally:
        ctx.views.ended(op_id)  # the next read shows the cancel
