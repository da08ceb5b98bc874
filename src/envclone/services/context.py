"""What every service needs from the running environment, built once by the composition root."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from envclone.auth.credential_cache import CredentialCache
from envclone.auth.throttle import LoginThrottle, ThrottleRules
from envclone.blobs.store import BlobStore
from envclone.domain.components import Component
from envclone.engine import Engine
from envclone.services._views import OperationViews
from envclone.settings import Settings
from envclone.store.database import Database
from envclone.store.operations import OPERATIONS_FORGOTTEN
from envclone.store.principals import SESSIONS_ENDED


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    # Serialises "is this blob still referenced?" checks with new references to the same blob.
    blob_refs: threading.Lock = field(default_factory=threading.Lock)
    # Credentials checked a moment ago (services.authentication), so that a client polling with
    # HTTP Basic or a token pays neither Argon2 nor the database each time; emptied as soon as a
    # transaction that changes users, roles or sessions commits (_forget_cached).
    credentials: CredentialCache = field(default_factory=CredentialCache)
    # Operations as read a moment ago (services.operations): status polls cost no query and no
    # copy of a running operation each; told when one ends here or is forgotten.
    views: OperationViews = field(default_factory=OperationViews)
    _engine: Engine | None = None
    logins: LoginThrottle = field(init=False)  # failed password logins (services.authentication)

    def __post_init__(self) -> None:
        self.db.after_commit(self._forget_cached)
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

    def _forget_cached(self, changed: frozenset[str]) -> None:
        # Users, groups and role assignments are the users component; tokens are sessions.
        if Component.USERS in changed or SESSIONS_ENDED in changed:
            self.credentials.invalidate()
        if OPERATIONS_FORGOTTEN in changed:
            self.views.forget_all()

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "the engine is attached by the composition root"
        return self._engine

    def attach(self, engine: Engine) -> None:
        self._engine = engine
        engine.when_finished(lambda op: self.views.ended(op.id))
