"""Sign-in throttling with exponential back-off, kept in Redis so it holds across processes.

Each guess is counted against several keys (the IP address, the account, the store). A key
allows a few failures for free; from then on every failure makes that key wait twice as long
as the one before (30 s, 1 min, 2 min, ... up to a cap). While a key waits, sign-in through
it is answered "try again in N" without checking the password.

Nothing here is a hard lock: waits end by themselves, a successful password reset or an
emailed unlock link clears an account's failures, and a browser that signed in to an account
before (or followed its unlock link) is counted on its own key instead of the account's, so
strangers' guesses cannot keep the account's owner out."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError

from jobs.connection import RedisNotConfigured, get_redis

log = logging.getLogger(__name__)

PREFIX = "signin-throttle"


@dataclass(frozen=True)
class Rule:
    """How many failures a key allows before it waits, and how long the waits are."""

    name: str
    free_failures: int
    base_seconds: int = 30
    max_seconds: int = 15 * 60
    # Failures are forgotten after this long without a new one.
    memory_seconds: int = 60 * 60

    def wait_after(self, failures: int) -> int:
        """Seconds to wait after this many failures (0 while they are free)."""
        if failures < self.free_failures:
            return 0
        doublings = min(failures - self.free_failures, 20)
        return min(self.max_seconds, self.base_seconds * 2**doublings)


# Staff sign-in (/login) and its second factor.
STAFF_ACCOUNT = Rule("staff-account", free_failures=5)
STAFF_DEVICE = Rule("staff-device", free_failures=5)
STAFF_IP = Rule("staff-ip", free_failures=30)
# Storefront customers: per email in the store, per IP, and per store (a whole store under a
# credential-stuffing attack waits, but only after many failures and for a short time).
STORE_ACCOUNT = Rule("store-account", free_failures=5)
STORE_DEVICE = Rule("store-device", free_failures=5)
STORE_IP = Rule("store-ip", free_failures=30)
STORE_WIDE = Rule("store", free_failures=200, max_seconds=5 * 60)


@dataclass(frozen=True)
class Key:
    rule: Rule
    value: str

    @property
    def failures_key(self) -> str:
        return f"{PREFIX}:{self.rule.name}:{self.value}:failures"

    @property
    def wait_key(self) -> str:
        return f"{PREFIX}:{self.rule.name}:{self.value}:wait"


def seconds_to_wait(keys: list[Key]) -> int:
    """The longest wait among these keys; 0 when sign-in may go ahead."""
    try:
        redis = get_redis()
        waits = [redis.ttl(key.wait_key) for key in keys]
    except (RedisError, RedisNotConfigured, OSError) as exc:
        # The password is still checked; throttling is a second line of defence, and sign-in
        # must not stop working with the queue.
        log.warning("sign-in throttle unavailable: %s", exc)
        return 0
    return max([w for w in waits if w > 0], default=0)


def record_failure(keys: list[Key]) -> dict[Key, int]:
    """Count one failure on each key; returns each key's failure count after it."""
    counts: dict[Key, int] = {}
    try:
        redis = get_redis()
        for key in keys:
            failures = int(redis.incr(key.failures_key))
            wait = key.rule.wait_after(failures)
            redis.expire(key.failures_key, key.rule.memory_seconds + wait)
            if wait:
                redis.set(key.wait_key, 1, ex=wait)
            counts[key] = failures
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("sign-in throttle unavailable: %s", exc)
    return counts


def clear(keys: list[Key]) -> None:
    """Forget the failures of these keys (a success, a reset password, an unlock link)."""
    try:
        names = [name for key in keys for name in (key.failures_key, key.wait_key)]
        if names:
            get_redis().delete(*names)
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("sign-in throttle unavailable: %s", exc)


def claim_once(name: str, seconds: int) -> bool:
    """True the first time in `seconds` for this name (an unlock email at most that often)."""
    try:
        return bool(get_redis().set(f"{PREFIX}:once:{name}", 1, nx=True, ex=seconds))
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("sign-in throttle unavailable: %s", exc)
        return False


def describe_wait(seconds: int) -> str:
    """'30 seconds', '2 minutes', '15 minutes': rounded up, for people."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
