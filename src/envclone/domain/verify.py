"""Verifying a backup as the rest of the code names it: the kind and its step. Pure: no I/O."""

KIND = "verifyBackup"
STEP = "Verifying backup"
STEPS = (STEP,)
