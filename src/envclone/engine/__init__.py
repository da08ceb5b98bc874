"""The operations engine: durable operation records, the runner that claims and runs them, the
recorder handlers report steps and progress through, cancel, and recovery after a restart.
Knows no particular operation: kinds are registered by the composition root."""

from envclone.engine import faults
from envclone.engine.recorder import Cancelled, Recorder
from envclone.engine.registry import Handler, OperationKind, Registry
from envclone.engine.runner import Engine

__all__ = [
    "Cancelled",
    "Engine",
    "Handler",
    "OperationKind",
    "Recorder",
    "Registry",
    "faults",
]
