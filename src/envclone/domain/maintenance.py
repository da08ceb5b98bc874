"""Daily maintenance as the rest of the code names it: the kind and its steps. Pure: no I/O."""

KIND = "dailyMaintenance"
SNAPSHOT_STEP = "Creating Artifact Snapshot"
BACKUP_STEP = "Creating Environment Backup"
RETENTION_STEP = "Applying the retention policy"
STEPS = (SNAPSHOT_STEP, BACKUP_STEP, RETENTION_STEP)
