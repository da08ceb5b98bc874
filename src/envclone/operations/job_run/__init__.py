"""Job run: a backup job writes an Environment Backup of this environment into its repository."""

from envclone.operations.job_run.run import run_job

__all__ = ["run_job"]
