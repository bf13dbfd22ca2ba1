"""`make run`'s dev server: SIGTERM to its process group leaves no process behind."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROC = Path("/proc")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time) of a process from /proc/<pid>/stat, or None if it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces
    return int(fields[1]), fields[0], int(fields[19])


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _process_tree(root: int) -> dict[int, int]:
    """{pid: start time} of `root` and all its descendants, following ppid links."""
    parents: dict[int, int] = {}
    starts: dict[int, int] = {}
    for pid in _all_pids():
        info = _stat(pid)
        if info is not None:
            parents[pid], _, starts[pid] = info
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in starts and pid not in tree:
            tree[pid] = starts[pid]
            todo.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def _alive(pid: int, start: int) -> bool:
    """The same process (not a reused pid) still exists and is not a zombie."""
    info = _stat(pid)
    return info is not None and info[2] == start and info[1] not in ("Z", "X")


def _redis_servers_mentioning(text: str) -> list[int]:
    found = []
    for pid in _all_pids():
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        info = _stat(pid)
        if "redis-server" in cmdline and text in cmdline and info and info[1] != "Z":
            found.append(pid)
    return found


def _run_flask(env: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stderr}"


def _login_status(port: int) -> int | None:
    """The status of GET /login on 127.0.0.1:port, or None while nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/login")
        return conn.getresponse().status
    except (ConnectionError, TimeoutError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _wait_for_login(port: int, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dev server exited ({proc.returncode}):\n{log_path.read_text()}")
        if _login_status(port) == 200:
            return
        time.sleep(0.25)
    pytest.fail(f"/login did not answer 200 in {timeout:.0f} s:\n{log_path.read_text()}")


def test_sigterm_stops_web_worker_and_embedded_redis(tmp_path):
    """SIGTERM to `python -m webapp.devserver`'s process group stops the web server, the
    worker and the embedded redis-server, so nothing outlives `make run`."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3",
        PORT=str(port),
        APP_ENV="development",  # as `make run` sets
    )
    _run_flask(env, "db", "upgrade")
    _run_flask(env, "seed-demo")

    log_path = tmp_path / "devserver.log"
    tree: dict[int, int] = {}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp.devserver"],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_login(port, proc, log_path, timeout=60)
        tree = _process_tree(proc.pid)
        # The dev server itself, its embedded redis-server, the worker and the web server.
        assert len(tree) >= 4, f"expected at least 4 processes, found {sorted(tree)}"
        assert _redis_servers_mentioning(str(tmp_path)), "no embedded redis-server found"

        os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the dev server did not exit in 10 s:\n{log_path.read_text()}")
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in tree.items()):
            time.sleep(0.1)
        left = [pid for pid, start in tree.items() if _alive(pid, start)]
        assert left == [], f"still running after SIGTERM: {left}\n{log_path.read_text()}"
        assert _redis_servers_mentioning(str(tmp_path)) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid, start in tree.items():  # also anything that left the process group
            if _alive(pid, start):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        proc.wait()


def _workers_of(devserver: int) -> list[int]:
    """The dev server's worker children (not their schedulers, which are their children)."""
    found = []
    for pid in _all_pids():
        info = _stat(pid)
        if info is None or info[0] != devserver or info[1] == "Z":
            continue
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            if (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")[-2:-1] == [b"worker"]:
                found.append(pid)
    return found


def test_a_killed_worker_is_started_again(tmp_path):
    """`make run` restarts a worker that dies (SIGKILL), with a message, instead of stopping
    the web server and Redis with it; SIGTERM still stops everything afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3",
        PORT=str(port),
        APP_ENV="development",  # as `make run` sets
    )
    _run_flask(env, "db", "upgrade")
    log_path = tmp_path / "devserver.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp.devserver"],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_login(port, proc, log_path, timeout=60)
        [first] = _workers_of(proc.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        restarted: list[int] = []
        while time.monotonic() < deadline and not restarted:
            restarted = [p for p in _workers_of(proc.pid) if p != first]
            time.sleep(0.2)
        assert restarted, f"no new worker after SIGKILL:\n{log_path.read_text()}"
        assert proc.poll() is None and _login_status(port) == 200
        assert "starting a new one" in log_path.read_text()
    finally:
        tree = _process_tree(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        finally:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(_alive(p, s) for p, s in tree.items()):
                time.sleep(0.1)
            left = [pid for pid, start in tree.items() if _alive(pid, start)]
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert left == [], f"still running after SIGTERM: {left}"
