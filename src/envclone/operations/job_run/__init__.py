"""Job runs: a backup job writes an Environment Backup of this environment into its repository; a
backup copy job copies its source jobs' backups into its own. (A replication job's run is a clone:
operations.clone.replica.)"""

from envclone.operations.job_run.backup_copy import run_backup_copy_job
from envclone.operations.job_run.run import run_job

__all__ = ["run_backup_copy_job", "run_job"]
