"""The Redis connection and the queues, created lazily per app from REDIS_URL.

Three queues, by kind of work: back-ordering events and email are short and must not wait
behind a creation copying 300,000 products, so every worker listens to them first."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

EVENTS = "events"
EMAIL = "email"
PROCESSES = "processes"
# The order a worker takes jobs in: short work first.
QUEUE_ORDER = (EVENTS, EMAIL, PROCESSES)


class RedisNotConfigured(RuntimeError):
    """REDIS_URL is not set: `make run` starts an embedded Redis and sets it."""


def init_app(app: Flask) -> None:
    app.extensions["redis_connection"] = None


def get_redis() -> Redis:
    """This app's Redis connection (created on first use)."""
    conn = current_app.extensions.get("redis_connection")
    if conn is None:
        url = current_app.config.get("REDIS_URL")
        if not url:
            raise RedisNotConfigured("REDIS_URL is not set")
        # Short connect timeout: a submit while Redis is down must answer fast, not hang.
        conn = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
        current_app.extensions["redis_connection"] = conn
    return conn


def get_queue(name: str = PROCESSES) -> Queue:
    """One of the three queues (processes by default)."""
    if name not in QUEUE_ORDER:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis(), default_timeout=current_app.config["JOB_TIMEOUT"])


def all_queues() -> list[Queue]:
    """Every queue, short work first: what each worker listens to."""
    return [get_queue(name) for name in QUEUE_ORDER]


def limiter_storage_uri(redis_url: str | None) -> str:
    """Flask-Limiter's storage: the same Redis, so limits hold across web processes."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url
