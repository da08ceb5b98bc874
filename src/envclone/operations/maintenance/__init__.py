"""Daily maintenance: an Artifact Snapshot and an Environment Backup of the environment as it is,
then the retention policy and garbage collection of chunks no archive needs."""

from envclone.operations.maintenance.run import run_daily_maintenance

__all__ = ["run_daily_maintenance"]
