"""Counting what went wrong in the workers' maintenance (the reaper, RQ's own clean-up), so
that an operator sees it in /metrics while the workers keep going. Kept in Redis, where every
worker adds to the same counters; if Redis is the part that is down, the log says it."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from jobs.connection import RedisNotConfigured, get_redis

log = logging.getLogger(__name__)

KEY = "trbss:metrics:maintenance_errors"


def count(kind: str) -> None:
    try:
        get_redis().hincrby(KEY, kind, 1)
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("could not count a %s error: %s", kind, exc)


def totals() -> dict[str, int]:
    """{kind: errors so far}; empty when Redis cannot be read."""
    try:
        raw = get_redis().hgetall(KEY)
    except (RedisError, RedisNotConfigured, OSError):
        return {}
    return {k.decode(): int(v) for k, v in raw.items()}
