"""Clone Environment: this environment (the source) logs in to another envclone server (the
target), validates it, sends the archive's missing chunks, and has the target apply it atomically
(``apply``, the target's side)."""
