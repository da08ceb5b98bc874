"""EPM job ids in status paths: the operation's sequence number, ASCII digits only. A status path
renders only its own kind of job: another job's number is not found there."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from envclone.api.credentials import context
from envclone.domain.operation import Operation
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, NotFound
from envclone.services import operations

MAX_JOB_ID = 2**63 - 1  # the operations' sequence numbers are 64-bit


def number(job_id: str) -> int:
    if not (job_id.isascii() and job_id.isdigit()):
        raise InvalidRequest(f"job id {job_id!a} is not a number")
    if len(job_id) > 19:  # past 64 bits (and past what int() parses from thousands of digits)
        raise NotFound(f"job {job_id[:40]}... not found")
    value = int(job_id)
    if value > MAX_JOB_ID:
        raise NotFound(f"job {job_id} not found")
    return value


async def job(request: Request, who: Principal, job_id: str, kind: str) -> Operation:
    """The operation numbered ``job_id``, which must be of ``kind``."""
    seq = number(job_id)
    # One running here or ended a moment ago is read from memory; others cost a worker thread.
    op = operations.peek_operation(context(request), who, seq)
    if op is None:
        op = await run_in_threadpool(operations.get_by_number, context(request), who, seq)
    if op.kind != kind:
        raise NotFound(f"job {job_id} not found")
    return op
