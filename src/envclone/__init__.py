"""envclone: a self-hosted server that keeps application environments safe and movable."""

__version__ = "0.1.0"
