"""Starting a clone: roles, the target URL and credentials, the named snapshot, all checked before
anything is recorded. The target password goes to the engine as a secret (memory only)."""

from __future__ import annotations

from urllib.parse import urlsplit

from envclone.domain import clone
from envclone.domain.clone import OPTION_NAMES, CloneRequest
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidRequest, NotFound
from envclone.operations.clone.snapshot import find_stored
from envclone.services.context import ServiceContext
from envclone.store import archives


def check_target_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidRequest(f"targetURL {url!a} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number or out of range)
    except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 address
        raise InvalidRequest(f"targetURL {url!a} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"targetURL {url!a} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        # They would be kept in the operation's parameters; credentials travel separately.
        raise InvalidRequest("targetURL must not carry a user or password; send them as the target credentials")
    return url


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
