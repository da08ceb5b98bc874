"""The errors of project duplication, with the codes the dialects map to their own."""

from __future__ import annotations

from envclone.errors import Conflict, EnvcloneError, InvalidRequest, NotFound


class ProjectNotFound(NotFound, code="project_not_found"):
    """The source project does not exist."""


class ProjectNameExists(Conflict, code="project_name_exists"):
    """A project with the target name already exists."""


class StorageNotConfigured(InvalidRequest, code="storage_not_configured", status=400):
    """No storage service is configured: cross-environment duplication moves its package through one.
    Configure it with PATCH /api/mstrServices/library/storage: type file_system and a location
    folder that both environments reach, or type S3 and a bucket both reach."""


class NotADuplicationPackage(EnvcloneError, code="package_corrupt", status=422, exit_code=2):
    """The file is an envclone archive package but not a project duplication package."""


class IncompatibleVersions(InvalidRequest, code="incompatible_versions", status=400):
    """The package was written by a newer envclone than this server reads."""


class SyncTimedOut(EnvcloneError, code="sync_timeout", status=504):
    """The source did not publish the package in the storage service in time."""
