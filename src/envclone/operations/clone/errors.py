"""Why a clone stops, each with a stable code (the EPM dialect maps codes to status numbers)."""

from __future__ import annotations

from envclone.errors import EnvcloneError, InvalidCredentials
from envclone.peer import PeerError


class TargetUnreachable(EnvcloneError, code="unreachable", status=502):
    """The target environment cannot be reached."""


class TargetLoginFailed(InvalidCredentials):
    """Login to the target environment failed."""


class VersionMismatch(EnvcloneError, code="version_mismatch", status=409):
    """The target environment's version is not compatible with the source's."""


class ServiceTypeMismatch(EnvcloneError, code="service_type_mismatch", status=409):
    """The target environment's service type differs from the source's."""


class TargetApplyFailed(EnvcloneError, code="target_apply_failed", status=502):
    """The target could not apply the clone and was left unchanged."""


class TargetLost(EnvcloneError, code="unreachable", status=502):
    """The target stopped answering while it applied the clone: whether it changed is unknown."""


def peer_failure(exc: PeerError, url: str) -> EnvcloneError:
    """What to report when the target fails past login: unreachable, or what it answered."""
    if exc.status == 0:
        return TargetUnreachable(f"lost the connection to the target environment at {url}")
    return TargetFailed(f"the target environment answered {exc.status}: {exc.message}")


class TargetFailed(EnvcloneError, code="target_error", status=502):
    """The target environment answered with an error."""
