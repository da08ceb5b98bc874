"""The operations repository: operation records. Only the engine writes them, and every write after
creation is guarded on the operation not being terminal, so a late update cannot reopen a finished
one."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from envclone.domain.clock import utcnow
from envclone.domain.limits import INT64_MAX
from envclone.domain.operation import Operation, OperationStatus, Progress, Step
from envclone.errors import Conflict, NotFound
from envclone.store import server_state, tables
from envclone.store.database import note_change

T = tables.operations
CONTENT_LOCK = "content"
OPEN = (OperationStatus.QUEUED.value, OperationStatus.RUNNING.value)


def _to_operation(row: Any) -> Operation:
    m = row._mapping
    return Operation(
        id=m["id"],
        kind=m["kind"],
        status=OperationStatus(m["status"]),
        params=m["params"],
        steps=[Step.from_json(s) for s in m["steps"]],
        progress=Progress.from_json(m["progress"]),
        result=m["result"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        created=m["created"],
        started=m["started"],
        ended=m["ended"],
        created_by=m["created_by"],
        cancel_requested=m["cancel_requested"],
        point_of_no_return=m["point_of_no_return"],
        seq=m["seq"],
    )


def create(
    conn: sa.Connection, kind: str, params: dict[str, Any], steps: list[Step], created_by: str, exclusive: bool
) -> Operation:
    op_id = uuid.uuid4().hex.upper()
    values = {
        "id": op_id,
        "kind": kind,
        "status": OperationStatus.QUEUED.value,
        "params": params,
        "steps": [s.to_json() for s in steps],
        "progress": Progress().to_json(),
        "result": {},
        "created": utcnow(),
        "created_by": created_by,
        "lock_key": CONTENT_LOCK if exclusive else None,
    }
    try:
        with conn.begin_nested():
            conn.execute(T.insert().values(**values))
    except sa.exc.IntegrityError:
        check_lock_free(conn)
        raise Conflict(_busy(None)) from None
    return load(conn, op_id)


def lock_holder(conn: sa.Connection) -> tuple[str, str] | None:
    """(kind, id) of the operation holding the content lock, or None."""
    holder = conn.execute(sa.select(T.c.kind, T.c.id).where(T.c.lock_key == CONTENT_LOCK)).first()
    return (holder.kind, holder.id) if holder is not None else None


def check_lock_free(conn: sa.Connection) -> None:
    """Raise Conflict if an exclusive operation holds the content lock."""
    holder = lock_holder(conn)
    if holder is not None:
        raise Conflict(_busy(f"the {holder[0]} operation {holder[1]}"))


def take_lock(conn: sa.Connection, op_id: str) -> str | None:
    """Give the open operation ``op_id`` the content lock late (one that first waits for something
    without changing content); None once it holds it (again: idempotent), else what holds it. The
    unique ``lock_key`` decides a race with an exclusive operation's insert, as in ``create``."""
    holder = lock_holder(conn)
    if holder is not None:
        return None if holder[1] == op_id else f"the {holder[0]} operation {holder[1]}"
    try:
        with conn.begin_nested():
            taken = conn.execute(
                T.update().where(T.c.id == op_id, T.c.status.in_(OPEN)).values(lock_key=CONTENT_LOCK)
            ).rowcount
    except sa.exc.IntegrityError:
        return "another operation"
    if taken != 1:
        raise Conflict(f"operation {op_id} has ended; it cannot take the content lock")
    return None


def _busy(what: str | None) -> str:
    return f"{what or 'another operation'} is changing this environment's content; try again when it has finished"


def load(conn: sa.Connection, op_id: str) -> Operation:
    row = conn.execute(sa.select(T).where(T.c.id == op_id)).first()
    if row is None:
        raise NotFound(f"operation {op_id} not found")
    return _to_operation(row)


def load_seq(conn: sa.Connection, seq: int) -> Operation:
    # Numbers past the 64-bit column cannot exist; the database would overflow looking for them.
    row = conn.execute(sa.select(T).where(T.c.seq == seq)).first() if 0 < seq <= INT64_MAX else None
    if row is None:
        raise NotFound(f"job {seq} not found")
    return _to_operation(row)


def latest(conn: sa.Connection, kind: str) -> Operation | None:
    row = conn.execute(sa.select(T).where(T.c.kind == kind).order_by(T.c.seq.desc()).limit(1)).first()
    return _to_operation(row) if row else None


def _filtered(query: sa.Select[Any], kind: str | None, status: str | None) -> sa.Select[Any]:
    if kind:
        query = query.where(T.c.kind == kind)
    if status:
        query = query.where(T.c.status == status)
    return query


def listing(conn: sa.Connection, *, kind: str | None, status: str | None, limit: int, offset: int) -> list[Operation]:
    query = _filtered(sa.select(T), kind, status).order_by(T.c.seq.desc()).limit(limit).offset(offset)
    return [_to_operation(r) for r in conn.execute(query)]


def count(conn: sa.Connection, *, kind: str | None, status: str | None) -> int:
    return int(conn.execute(_filtered(sa.select(sa.func.count()).select_from(T), kind, status)).scalar_one())


def any_open(conn: sa.Connection, kind: str) -> bool:
    """True while an operation of ``kind`` is queued or running."""
    return conn.execute(sa.select(T.c.id).where(T.c.kind == kind, T.c.status.in_(OPEN)).limit(1)).first() is not None


def claim(conn: sa.Connection, op_id: str, runner: str) -> bool:
    """queued -> running, for exactly one runner."""
    now = utcnow()
    result = conn.execute(
        T.update()
        .where(T.c.id == op_id, T.c.status == OperationStatus.QUEUED.value)
        .values(status=OperationStatus.RUNNING.value, runner=runner, started=now, heartbeat=now)
    )
    return result.rowcount == 1


def _fenced(runner: str | None) -> sa.ColumnElement[bool]:
    # Where several runners share the database, a write of a running operation is its claimer's.
    return T.c.runner == runner if runner is not None else sa.true()


def save_progress(conn: sa.Connection, op: Operation, *, runner: str | None = None) -> bool:
    """Write steps, progress and result; returns whether a cancel was requested meanwhile."""
    conn.execute(
        T.update()
        .where(T.c.id == op.id, T.c.status.in_(OPEN), _fenced(runner))
        .values(
            steps=[s.to_json() for s in op.steps],
            progress=op.progress.to_json(),
            result=op.result,
            heartbeat=utcnow(),
        )
    )
    return bool(conn.execute(sa.select(T.c.cancel_requested).where(T.c.id == op.id)).scalar())


def finish(
    conn: sa.Connection,
    op: Operation,
    status: OperationStatus,
    code: str | None,
    message: str | None,
    *,
    runner: str | None = None,
) -> bool:
    """Give the operation its terminal status; False if it had ended already (or, with
    ``runner``, is no longer that runner's)."""
    assert status.is_terminal
    result = conn.execute(
        T.update()
        .where(T.c.id == op.id, T.c.status.in_(OPEN), _fenced(runner))
        .values(
            status=status.value,
            steps=[s.to_json() for s in op.steps],
            progress=op.progress.to_json(),
            result=op.result,
            error_code=code,
            error_message=message,
            ended=utcnow(),
            lock_key=None,
        )
    )
    return result.rowcount == 1


# A cancel and the point of no return exclude each other: each is one guarded update of the same row
# that the other's condition sees (a row lock on PostgreSQL, the write lock on SQLite), so whichever
# comes second finds the first and gives way. A cancel is never recorded and then ignored.
def request_cancel(conn: sa.Connection, op_id: str) -> bool:
    """Record a cancel; False if the operation has ended or passed its point of no return."""
    result = conn.execute(
        T.update()
        .where(T.c.id == op_id, T.c.status.in_(OPEN), T.c.point_of_no_return.is_(None))
        .values(cancel_requested=True)
    )
    return result.rowcount == 1


def pass_point_of_no_return(conn: sa.Connection, op_id: str) -> dt.datetime | None:
    """Record that the operation is past its point of no return, and when; None if a cancel was
    requested first (the caller stops instead)."""
    now = utcnow()
    result = conn.execute(
        T.update()
        .where(T.c.id == op_id, T.c.status.in_(OPEN), T.c.cancel_requested == sa.false())
        .values(point_of_no_return=sa.func.coalesce(T.c.point_of_no_return, now))
    )
    if result.rowcount != 1:
        return None
    passed: dt.datetime = conn.execute(sa.select(T.c.point_of_no_return).where(T.c.id == op_id)).scalar_one()
    return passed


def interrupted(conn: sa.Connection, runner: str, stale_before: dt.datetime) -> list[Operation]:
    """Open operations this runner left behind, or whose runner stopped sending heartbeats."""
    query = sa.select(T).where(
        T.c.status.in_(OPEN),
        sa.or_(T.c.runner == runner, T.c.runner.is_(None), T.c.heartbeat < stale_before),
    )
    return [_to_operation(r) for r in conn.execute(query)]


def stale(conn: sa.Connection, stale_before: dt.datetime) -> list[Operation]:
    """Running operations whose runner stopped sending heartbeats, where several runners share the
    database. Their rows stay locked until the caller's transaction ends, and rows another runner
    is settling are skipped, so that two runners never settle (or requeue) the same operation."""
    query = (
        sa.select(T)
        .where(T.c.status == OperationStatus.RUNNING.value, T.c.heartbeat < stale_before)
        .with_for_update(skip_locked=True)
    )
    return [_to_operation(r) for r in conn.execute(query)]


def beat(conn: sa.Connection, runner: str, op_ids: list[str]) -> set[str]:
    """Renew ``runner``'s claim on the operations it runs; returns those it still holds."""
    held = conn.execute(
        T.update()
        .where(T.c.id.in_(op_ids), T.c.runner == runner, T.c.status == OperationStatus.RUNNING.value)
        .values(heartbeat=utcnow())
        .returning(T.c.id)
    )
    return {row.id for row in held}


def queued_before(conn: sa.Connection, before: dt.datetime) -> list[str]:
    """Queued operations recorded before ``before`` (a queue sweeper looks for their jobs)."""
    query = sa.select(T.c.id).where(T.c.status == OperationStatus.QUEUED.value, T.c.created < before)
    return list(conn.execute(query).scalars())


def requeue(conn: sa.Connection, op: Operation) -> None:
    conn.execute(
        T.update()
        .where(T.c.id == op.id, T.c.status.in_(OPEN))
        .values(
            status=OperationStatus.QUEUED.value,
            runner=None,
            steps=[s.to_json() for s in op.steps],
            point_of_no_return=None,  # it runs again from the start
        )
    )


# A commit marker: written in the very transaction that replaces content, so that the final status
# is decided by the same commit as the content. A crash after that commit but before the final
# status is written then recovers as succeeded, with the steps as they stood at the commit.
_COMMITTED = "committed:"


def mark_committed(conn: sa.Connection, op: Operation) -> None:
    """Inside the content transaction: the operation's change is made when this commits, with
    ``op``'s steps and result as they will be reported if the process stops before finishing."""
    value = {"steps": [s.to_json() for s in op.steps], "result": op.result, "at": utcnow().isoformat()}
    server_state.put(conn, _COMMITTED + op.id, value)


def committed_steps(conn: sa.Connection, op_id: str) -> list[Step] | None:
    """The steps recorded with the commit marker, or None when the operation never committed."""
    value = server_state.get(conn, _COMMITTED + op_id)
    if not isinstance(value, dict):
        return None
    return [Step.from_json(s) for s in value.get("steps", [])]


def committed_result(conn: sa.Connection, op_id: str) -> dict[str, Any]:
    """The result recorded with the commit marker (empty without one)."""
    value = server_state.get(conn, _COMMITTED + op_id)
    result = value.get("result") if isinstance(value, dict) else None
    return dict(result) if isinstance(result, dict) else {}


def clear_committed(conn: sa.Connection, op_id: str) -> None:
    server_state.delete(conn, _COMMITTED + op_id)


# What forget notes (store.database.note_change): caches of finished operations must let go.
OPERATIONS_FORGOTTEN = "operations forgotten"


def forget(conn: sa.Connection, op_id: str) -> bool:
    """Remove a finished operation's record (a client dismissing a task it has read); False if the
    operation is unknown or still open: an open one is cancelled, never forgotten."""
    note_change(conn, OPERATIONS_FORGOTTEN)
    terminal = [s.value for s in OperationStatus if s.is_terminal]
    return bool(conn.execute(T.delete().where(T.c.id == op_id, T.c.status.in_(terminal))).rowcount)
