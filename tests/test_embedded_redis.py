"""EmbeddedRedis: a real redis-server we own, stopped without leaving a process behind."""

from __future__ import annotations

import os

import pytest
from redis import Redis

from jobs.embedded_redis import EmbeddedRedis


def _pid_exists(pid: int) -> bool:
    """True while the pid names a process (a reaped child no longer does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ping(server: EmbeddedRedis) -> bool:
    client = Redis.from_url(server.url)
    try:
        return client.ping()
    finally:
        client.close()


@pytest.fixture
def server(tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis")
    try:
        yield redis
    finally:
        redis.stop()


def test_start_runs_a_real_redis_server(server):
    """start() returns once a real redis-server answers PING on its unix socket."""
    server.start()
    assert server.running
    assert server.url == f"unix://{server.socket_path}"
    assert _ping(server) is True
    client = Redis.from_url(server.url)
    try:
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
    finally:
        client.close()


def test_stop_leaves_no_process(server):
    """stop() ends the redis-server and reaps it, so no process (not even a zombie) is left."""
    server.start()
    process = server.process
    pid = process.pid
    assert _pid_exists(pid)
    server.stop()
    assert process.poll() is not None
    assert not _pid_exists(pid)
    assert not server.running
    server.stop()  # stopping twice is harmless


def test_restart_gives_a_working_server_again(server):
    """restart() replaces the process with a new one that answers PING; the old one is gone."""
    server.start()
    first = server.process
    server.restart()
    assert first.poll() is not None
    assert not _pid_exists(first.pid)
    assert server.running and server.process is not first
    assert _ping(server) is True
    server.stop()
    server.start()  # start after stop works too
    assert _ping(server) is True
