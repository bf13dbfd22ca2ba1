"""Throw-away databases and a Redis for one bench run, each removed when the run ends."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jobs.embedded_redis import EmbeddedRedis
from webapp.config import normalise_database_url


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="trbss-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A new database created next to `base_url`'s, dropped afterwards (like the tests)."""
    base = normalise_database_url(base_url)
    name = f"trbss_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_database(admin, name)
    finally:
        admin.dispose()


def _drop_database(admin, name: str) -> None:
    """Drop the bench database, ending any connection a crashed run left behind."""
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@contextmanager
def redis_url() -> Iterator[str]:
    """BENCH_REDIS_URL (flushed), or an embedded redis-server stopped at the end."""
    url = os.environ.get("BENCH_REDIS_URL", "").strip()
    if url:
        Redis.from_url(url).flushdb()
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="trbss-bench-redis-") as directory:
        server = EmbeddedRedis(directory).start()
        try:
            yield server.url
        finally:
            server.stop()


def flush_redis(url: str) -> None:
    """Start each database's run on an empty queue."""
    Redis.from_url(url).flushdb()
