"""What an operation handler needs from the environment, as a Protocol defined where it is used:
the services' context satisfies it without operations importing services."""

from __future__ import annotations

import threading
from typing import Protocol

from envclone.blobs.store import BlobStore
from envclone.settings import Settings
from envclone.store.database import Database


class OperationContext(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def blob_refs(self) -> threading.Lock: ...
