"""Job clone: a job definition copied under a new name, file name, repository or replica suffix."""

from envclone.operations.job_clone.run import run_job_clone

__all__ = ["run_job_clone"]
