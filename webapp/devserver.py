"""`make run`: an embedded Redis (unless REDIS_URL is set), one RQ worker and the web server.

A worker that dies is started again, after a back-off that grows while it keeps dying (a
process supervisor does this in production). Ctrl-C or SIGTERM stops every child, the
embedded redis-server last, so nothing is orphaned."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from jobs.embedded_redis import EmbeddedRedis
from webapp.config import INSTANCE_DIR, Settings

children: list[subprocess.Popen] = []
stopping = False
# A worker that ran this long before dying was healthy: its next restart waits the least.
HEALTHY_SECONDS = 60
MAX_BACKOFF = 30.0


class Supervised:
    """A worker we restart when it dies, waiting longer each time it dies young."""

    def __init__(self, command: list[str], env: dict):
        self.command, self.env = command, env
        self.backoff = 1.0
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        self.started_at = time.monotonic()
        process = subprocess.Popen(self.command, env=self.env)
        children.append(process)
        return process

    def check(self) -> None:
        """Restart the worker if it died (called every half second)."""
        code = self.process.poll()
        if code is None or stopping:
            return
        children.remove(self.process)
        lived = time.monotonic() - self.started_at
        self.backoff = 1.0 if lived > HEALTHY_SECONDS else min(self.backoff * 2, MAX_BACKOFF)
        print(
            f"The worker (pid {self.process.pid}) exited with code {code} after {lived:.0f} s; "
            f"starting a new one in {self.backoff:.0f} s.",
            flush=True,
        )
        time.sleep(self.backoff)
        if not stopping:
            self.process = self._start()
            print(f"New worker started (pid {self.process.pid}).", flush=True)


def _stop(*_args) -> None:
    global stopping
    if stopping:
        return
    stopping = True
    print("\nStopping…", flush=True)
    for child in reversed(children):  # web first, then the worker
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 4
    for child in children:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            child.wait(remaining)
        except subprocess.TimeoutExpired:
            # A second SIGTERM makes the RQ worker stop its job now (cold shutdown);
            # the reaper resumes that process on the next start.
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(3)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="RQ workers to start")
    parser.add_argument("--gunicorn", action="store_true", help="serve with gunicorn")
    args = parser.parse_args(argv)
    settings = Settings.from_environment()
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    env = dict(os.environ)
    env.setdefault("SESSION_COOKIE_SECURE", "0")  # local http://127.0.0.1; production sets 1
    # Local use: without SECRET_KEY the app keeps a random one in the instance folder, and
    # PLATFORM_HOSTS defaults to localhost, 127.0.0.1.
    env.setdefault("APP_ENV", "development")
    redis = None
    try:
        if not settings.redis_url:
            redis = EmbeddedRedis(INSTANCE_DIR / "redis", persist=True).start()
            env["REDIS_URL"] = redis.url
            print(f"Embedded Redis at {redis.url}", flush=True)
        python = sys.executable
        workers = [
            Supervised([python, "-m", "flask", "--app", "wsgi", "worker"], env)
            for _ in range(args.workers)
        ]
        if args.gunicorn:
            env.setdefault("WEB_CONCURRENCY", "2")
            web = subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "-c",
                    "gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{settings.port}",
                    "wsgi:app",
                ],
                env=env,
            )
        else:
            flask_run = [
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.port),
                "--no-reload",
                "--no-debugger",
            ]
            web = subprocess.Popen([python, "-m", "flask", "--app", "wsgi", *flask_run], env=env)
        children.append(web)
        password = "the DEMO_PASSWORD you set" if os.environ.get("DEMO_PASSWORD") else "admin"
        print(
            f"\n  Tenant Reseller BSS: http://127.0.0.1:{settings.port}/login\n"
            f"  Sign in with Client ID DEMO, username admin, password {password}.\n"
            "  Ctrl-C stops the web server, the worker and the embedded Redis.\n",
            flush=True,
        )
        while web.poll() is None:
            for worker in workers:
                worker.check()
            time.sleep(0.5)
        print("The web server exited; stopping the worker.", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop()
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    sys.exit(main())
