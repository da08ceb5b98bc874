"""What every service needs from the running environment, built once by the composition root."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from envclone.auth.throttle import LoginThrottle, ThrottleRules
from envclone.blobs.store import BlobStore
from envclone.engine import Engine
from envclone.settings import Settings
from envclone.store.database import Database


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    # Serialises "is this blob still referenced?" checks with new references to the same blob.
    blob_refs: threading.Lock = field(default_factory=threading.Lock)
    # Recently verified (password hash, password) pairs, keyed by a SHA-256 of both, so that
    # scripts sending HTTP Basic on every call do not pay for Argon2 each time. A changed password
    # changes the stored hash and so misses the cache.
    verified: dict[str, float] = field(default_factory=dict)
    _engine: Engine | None = None
    logins: LoginThrottle = field(init=False)  # failed password logins (services.authentication)

    def __post_init__(self) -> None:
        s = self.settings
        self.logins = LoginThrottle(
            ThrottleRules(
                free=s.login_free_failures,
                lock_after=s.login_lock_failures,
                lock_seconds=s.login_lock_seconds,
                base_delay=s.login_delay_seconds,
                max_delay=s.login_max_delay_seconds,
                user_free=s.login_user_free_failures,
                address_free=s.login_address_free_failures,
                window=s.login_window_seconds,
            )
        )

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "the engine is attached by the composition root"
        return self._engine

    def attach(self, engine: Engine) -> None:
        self._engine = engine
