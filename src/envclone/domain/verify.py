"""Verifying a backup as the rest of the code names it: the kind and its step. Pure: no I/O."""

KIND = "verifyBackup"
STEP = "Verifying backup"
STEPS = (STEP,)

# Verifying the live store: every stored file content and settings image read and hashed.
STORE_KIND = "verifyStore"
STORE_STEP = "Verifying stored file contents"
STORE_STEPS = (STORE_STEP,)
