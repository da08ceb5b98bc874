"""Project duplication (Strategy's seed 002): a project exported as an envclone archive of one
project and imported as a new project, here or through the storage service on another
environment. Kinds, steps and the request are domain.duplication's."""

from envclone.operations.duplicate.run import run_duplicate, run_export, run_import

__all__ = ["run_duplicate", "run_export", "run_import"]
