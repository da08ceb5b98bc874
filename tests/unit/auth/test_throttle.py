"""The login throttle's rules on a fake clock: free failures, a doubling delay, a lock per (user,
address) pair that expires, user and address delays that never lock, and counts that fade."""

from __future__ import annotations

import pytest

from envclone.auth.throttle import LoginThrottle, ThrottleRules

RULES = ThrottleRules(
    free=2, lock_after=6, lock_seconds=60, base_delay=1, max_delay=4, user_free=100, address_free=100, window=600
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fail(throttle: LoginThrottle, clock: Clock, times: int, user: str = "admin", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        clock.now += throttle.wait(user, address)  # a patient attacker: waits out every delay
        throttle.failed(user, address)


def test_free_failures_then_a_doubling_delay_capped(clock: Clock) -> None:
    throttle = LoginThrottle(RULES, clock)
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 0
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 1
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 2
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 4


def test_a_lock_holds_one_pair_only_and_expires(clock: Clock) -> None:
    throttle = LoginThrottle(RULES, clock)
    fail(throttle, clock, 6)
    assert throttle.wait("admin", "10.0.0.1") == 60
    assert throttle.wait("admin", "10.0.0.2") == 0  # the administrator, elsewhere, is not locked out
    assert throttle.wait("bob", "10.0.0.1") == 0
    clock.now += 60
    assert throttle.wait("admin", "10.0.0.1") == 0
    throttle.failed("admin", "10.0.0.1")  # one more failure after the lock: locked again
    assert throttle.wait("admin", "10.0.0.1") == 60


def test_a_success_clears_the_pair(clock: Clock) -> None:
    throttle = LoginThrottle(RULES, clock)
    fail(throttle, clock, 4)
    clock.now += throttle.wait("admin", "10.0.0.1")
    throttle.succeeded("admin", "10.0.0.1")
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 0


def test_counts_fade_after_a_calm_window(clock: Clock) -> None:
    throttle = LoginThrottle(RULES, clock)
    fail(throttle, clock, 4)
    clock.now += 601
    fail(throttle, clock, 1)
    assert throttle.wait("admin", "10.0.0.1") == 0


def test_many_addresses_against_one_user_are_slowed_but_a_clean_address_is_not(clock: Clock) -> None:
    throttle = LoginThrottle(ThrottleRules(free=2, lock_after=5, base_delay=1, max_delay=4, user_free=3), clock)
    for n in range(10):
        fail(throttle, clock, 1, address=f"10.1.0.{n}")
    assert throttle.wait("admin", "10.1.0.9") == 4  # an attacking address: the user's delay
    assert throttle.wait("admin", "10.1.0.200") == 0  # the administrator's own address: no wait
    clock.now += 4
    assert throttle.wait("admin", "10.1.0.9") == 0  # a delay, never a lock


def test_one_address_against_many_users_is_slowed_never_locked(clock: Clock) -> None:
    throttle = LoginThrottle(ThrottleRules(free=100, address_free=3, base_delay=1, max_delay=4), clock)
    for n in range(10):
        fail(throttle, clock, 1, user=f"user{n}")
    assert throttle.wait("someone", "10.0.0.1") == 4
    assert throttle.wait("someone", "10.0.0.2") == 0
