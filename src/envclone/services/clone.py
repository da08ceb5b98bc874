"""Starting a clone: roles, the target URL and credentials, the named snapshot, all checked before
anything is recorded. The target password goes to the engine as a secret (memory only)."""

from __future__ import annotations

from envclone.domain import clone
from envclone.domain.clone import OPTION_NAMES, CloneRequest, check_target_url
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest, NotFound
from envclone.operations.clone.snapshot import find_stored
from envclone.services.context import ServiceContext
from envclone.store import archives


def checked_request(request: CloneRequest, password: str) -> CloneRequest:
    """The request with its URL and user normalised; InvalidRequest for what no clone could use.
    A preview and a clone accept exactly the same requests."""
    unknown = set(request.options) - OPTION_NAMES
    if unknown:
        raise InvalidRequest(f"unknown clone option(s): {', '.join(sorted(unknown))}")
    if not request.target_user.strip():
        raise InvalidRequest("targetUserName is required")
    if not password:
        raise InvalidRequest("the target password is required")
    return CloneRequest(
        target_url=check_target_url(request.target_url),
        target_user=request.target_user.strip(),
        snapshot_name=request.snapshot_name,
        environment_backup=request.environment_backup,
        options=request.options,
        replica_name=request.replica_name,
    )


def start_clone(ctx: ServiceContext, who: Principal, request: CloneRequest, password: str) -> Operation:
    who.require(Permission.MIGRATE)
    request = checked_request(request, password)
    if request.names_snapshot:
        with ctx.db.read() as conn:
            name = str(request.snapshot_name)
            if archives.find(conn, name) is None and find_stored(conn, name) is None:
                raise NotFound(f"snapshot {request.snapshot_name} not found in the source environment")
    return ctx.engine.submit(
        clone.KIND, request.model_dump(mode="json"), created_by=who.login, secrets={"target_password": password}
    )


def report(ctx: ServiceContext, who: Principal, op_id: str) -> bytes:
    """The finished clone's change report: per component, counts and the objects created,
    replaced and removed on the target."""
    who.require(Permission.READ_CONTENT)
    op = ctx.engine.get(op_id)
    if op.kind != clone.KIND or not op.result.get("report"):
        raise NotFound(f"no change report for operation {op_id}")
    return ctx.blobs.get(clone.report_key(op_id))
