"""Brute-force throttling of password logins, per (user, address) pair, per user and per address.
In memory, per server process: several processes each keep their own counts (an attacker spread
over N processes gets N times the attempts), and a restart forgets them.

The rules, chosen so that an attacker cannot lock the administrator out for good:
- from a pair's ``free``-th failure on, its next attempt waits a delay that doubles per failure
  up to ``max_delay``; at ``lock_after`` failures the pair is locked for ``lock_seconds``;
- from a user's ``user_free``-th failure (from every address) on, the pairs of that user that
  have failed too wait (an address that never failed for the user is not held back), never locked;
- from an address's ``address_free``-th failure (for every user) on, that address waits, never locked;
- counts fade: a key with no failure for ``window`` seconds starts again from nothing; a success
  clears its pair.
A refused attempt is not checked and not counted, so waiting is the only way through."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 100_000  # tracked keys at most; the stalest are forgotten first


@dataclass(frozen=True)
class ThrottleRules:
    free: int = 5
    lock_after: int = 20
    lock_seconds: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 30.0
    user_free: int = 20
    address_free: int = 50
    window: float = 900.0

    def delay(self, failures: int, free: int) -> float:
        """The wait after ``failures`` failures: none before the ``free``-th, then ``base_delay``
        doubling per failure up to ``max_delay``."""
        over = failures - free
        return 0.0 if over < 0 else min(self.max_delay, self.base_delay * 2.0 ** min(over, 30))


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0  # no attempt before this (monotonic seconds)


class LoginThrottle:
    """Thread-safe: the API calls it from its worker threads."""

    def __init__(self, rules: ThrottleRules, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], _Count] = {}

    def wait(self, login: str, address: str) -> float:
        """Seconds before ``login`` may try from ``address`` again; 0 if it may now."""
        now = self._clock()
        with self._lock:
            pair = self._get(("pair", login, address), now)
            waits = [pair.until, self._get(("address", "", address), now).until]
            if pair.failures:
                waits.append(self._get(("user", login, ""), now).until)
        return max(0.0, max(waits) - now)

    def failed(self, login: str, address: str) -> None:
        rules, now = self.rules, self._clock()
        with self._lock:
            pair = self._bump(("pair", login, address), now)
            locked = pair.failures >= rules.lock_after
            pair.until = now + (rules.lock_seconds if locked else rules.delay(pair.failures, rules.free))
            user = self._bump(("user", login, ""), now)
            user.until = now + rules.delay(user.failures, rules.user_free)
            addr = self._bump(("address", "", address), now)
            addr.until = now + rules.delay(addr.failures, rules.address_free)

    def succeeded(self, login: str, address: str) -> None:
        with self._lock:
            self._counts.pop(("pair", login, address), None)

    def _get(self, key: tuple[str, str, str], now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or (now - count.last > self.rules.window and now >= count.until):
            return _Count()
        return count

    def _bump(self, key: tuple[str, str, str], now: float) -> _Count:
        count = self._get(key, now)
        count.failures += 1
        count.last = now
        self._counts.pop(key, None)  # re-inserted last: dict order is staleness order
        self._counts[key] = count
        if len(self._counts) > MAX_KEYS:
            del self._counts[next(iter(self._counts))]
        return count
