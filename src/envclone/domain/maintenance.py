"""Daily maintenance as the rest of the code names it: the kind, its steps and their weights in
its progress. Pure: no I/O."""

from envclone.domain.progress import step_phase

KIND = "dailyMaintenance"
SNAPSHOT_STEP = "Creating Artifact Snapshot"
BACKUP_STEP = "Creating Environment Backup"
RETENTION_STEP = "Applying the retention policy"
STEPS = (SNAPSHOT_STEP, BACKUP_STEP, RETENTION_STEP)
# The backup holds everything the snapshot holds and the files; retention is mostly bookkeeping.
PHASES = (step_phase(SNAPSHOT_STEP, 30), step_phase(BACKUP_STEP, 65), step_phase(RETENTION_STEP, 5))
