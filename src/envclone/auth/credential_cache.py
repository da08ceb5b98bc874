"""Credentials that were checked a moment ago, so that a client polling with HTTP Basic or a token
costs neither Argon2 nor database queries on every request. Holds no secret in clear: entries are
keyed by an HMAC (a key made per process) of what the client sent, never the password or token.

What an entry may not outlive:
- ``ttl`` seconds (a few), which also bounds how late another process's change is seen here;
- a revocation in this process: ``invalidate`` empties the cache at once, and a check that read
  the database before it cannot put its stale answer back (``epoch``);
- the token's own expiry, which the reader compares on the tokens' clock (``TokenEntry.expires``).
A proof that a password matches a stored hash lives longer (``proof_ttl``): it is bound to that hash,
so a new password misses it, but it still costs the user's row and roles from the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from envclone.domain.principal import Principal

MAX_ENTRIES = 4096  # each map at most; full means emptied, not an error
_V = TypeVar("_V")


@dataclass(frozen=True)
class TokenEntry:
    principal: Principal
    kind: str
    expires: dt.datetime  # the token's own expiry, as stored: the reader compares it (auth.tokens.live)
    until: float  # monotonic seconds: the cache's TTL


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    until: float


class CredentialCache:
    """Thread-safe: the API reads it on the event loop and fills it from its worker threads."""

    def __init__(self, ttl: float = 5.0, proof_ttl: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.proof_ttl = proof_ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._passwords: dict[bytes, _Entry] = {}
        self._tokens: dict[bytes, TokenEntry] = {}
        self._proofs: dict[bytes, float] = {}
        self._epoch = 0

    def _mac(self, *parts: str) -> bytes:
        # Each part length-prefixed: ("a", "b:c") and ("a:b", "c") must not share a key.
        joined = "".join(f"{len(part)}:{part}" for part in parts)
        return hmac.new(self._key, joined.encode(errors="surrogatepass"), hashlib.sha256).digest()

    @property
    def epoch(self) -> int:
        """Read before a check goes to the database, and handed back with what it found."""
        return self._epoch

    def __len__(self) -> int:
        return len(self._passwords) + len(self._tokens) + len(self._proofs)

    # -- HTTP Basic ---------------------------------------------------------------------------------
    def password(self, login: str, password: str) -> Principal | None:
        entry = self._passwords.get(self._mac("basic", login, password))  # atomic: no lock to read
        return entry.principal if entry is not None and entry.until > self._clock() else None

    def remember_password(self, login: str, password: str, principal: Principal, epoch: int) -> None:
        entry = _Entry(principal, self._clock() + self.ttl)
        self._put(self._passwords, self._mac("basic", login, password), entry, epoch)

    def proven(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` was lately found to match ``password_hash`` (skips Argon2)."""
        key = self._mac("proof", password_hash, password)
        with self._lock:
            return self._proofs.get(key, 0.0) > self._clock()

    def remember_proof(self, password_hash: str, password: str, epoch: int) -> None:
        self._put(self._proofs, self._mac("proof", password_hash, password), self._clock() + self.proof_ttl, epoch)

    # -- tokens and sessions ------------------------------------------------------------------------
    def token(self, token: str) -> TokenEntry | None:
        entry = self._tokens.get(self._mac("token", token))
        return entry if entry is not None and entry.until > self._clock() else None

    def remember_token(self, token: str, principal: Principal, kind: str, expires: dt.datetime, epoch: int) -> None:
        entry = TokenEntry(principal, kind, expires, self._clock() + self.ttl)
        self._put(self._tokens, self._mac("token", token), entry, epoch)

    # -- revocation ---------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget everything: credentials, roles or sessions changed somewhere (which, does not
        matter: revocations are rare, and a wrong guess here would let a revoked client in)."""
        with self._lock:
            self._epoch += 1
            self._passwords.clear()
            self._tokens.clear()
            self._proofs.clear()

    # -- the maps -----------------------------------------------------------------------------------
    def _put(self, entries: dict[bytes, _V], key: bytes, value: _V, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch:  # revoked since this was read from the database
                return
            if len(entries) >= MAX_ENTRIES:
                entries.clear()
            entries[key] = value
