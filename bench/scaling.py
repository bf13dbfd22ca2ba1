"""`make bench` part 2: throughput with 1, 2 and 4 real worker processes (50 creations of
1,000 products each), and the time from a worker's SIGKILL to its process moving again with
the shipped settings (heartbeat 30 s, worker TTL 30 s, maintenance every 10 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.creation import bench_account, bench_config, build_schema, submit_creation
from bench.resources import flush_redis
from webapp import create_app
from webapp.demo import seed_bulk, seed_demo
from webapp.extensions import db
from webapp.models import Process

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = int(os.environ.get("BENCH_SCALING_PROCESSES", "50"))
PRODUCTS = 1000
WORKER_COUNTS = (1, 2, 4)


@dataclass
class ScalingResult:
    label: str
    per_minute: dict[int, float] = field(default_factory=dict)
    recovery_seconds: float | None = None

    def ratio(self, workers: int) -> float:
        return self.per_minute[workers] / self.per_minute[1]


def _worker(database_url: str, redis_url: str, extra: dict | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret",
        "JSON_LOGS": "0",
        **(extra or {}),
    }
    for key in ("HEARTBEAT_STALE_SECONDS", "WORKER_TTL", "MAINTENANCE_INTERVAL"):
        env.pop(key, None)  # the shipped settings
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(20)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def _unfinished(ids: list[int]) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(
            Process.id.in_(ids), Process.status.not_in(["Completed", "Failed", "Cancelled"])
        )
    )


def _round(org_id: int, price_list_id: int, workers: int, urls: tuple[str, str]) -> float:
    """Submit PROCESSES creations, then let `workers` workers drain them: processes/minute."""
    ids = [
        submit_creation(
            org_id,
            bench_account(org_id, 100_000 * workers + i),
            price_list_id,
            100_000 * workers + i,
        )
        for i in range(PROCESSES)
    ]
    started = time.perf_counter()
    running = [_worker(*urls) for _ in range(workers)]
    try:
        while _unfinished(ids):
            time.sleep(0.25)
    finally:
        _stop(running)
    elapsed = time.perf_counter() - started
    failed = db.session.scalar(
        select(func.count()).where(Process.id.in_(ids), Process.status != "Completed")
    )
    if failed:
        raise RuntimeError(f"{failed} process(es) did not complete with {workers} worker(s)")
    return PROCESSES / elapsed * 60


def _recovery(org_id: int, price_list_id: int, urls: tuple[str, str]) -> float:
    """SIGKILL worker and horse mid-copy, start a new worker: seconds until the heartbeat moves."""
    marker = Path(tempfile.mkdtemp()) / "marker"
    pid = submit_creation(org_id, bench_account(org_id, 999_999), price_list_id, 999_999)
    doomed = _worker(
        *urls,
        extra={
            "TRBSS_CHAOS_PAUSE_AT": "copy_products:batch-committed:1",
            "TRBSS_CHAOS_MARKER": str(marker),
            "COPY_BATCH_SIZE": "100",
        },
    )
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker never reached the kill point")
        time.sleep(0.05)
    horse = int(marker.read_text())
    for victim in (doomed.pid, horse):
        os.kill(victim, signal.SIGKILL)
    doomed.wait()
    killed = time.perf_counter()
    db.session.expire_all()
    beat_at_kill = db.session.get(Process, pid).heartbeat_at
    fresh = _worker(*urls)
    try:
        while True:
            db.session.expire_all()
            process = db.session.get(Process, pid)
            if process.heartbeat_at != beat_at_kill or process.status == "Completed":
                moved = time.perf_counter() - killed
                break
            if time.perf_counter() - killed > 300:
                raise RuntimeError("the process did not move within 5 minutes")
            time.sleep(0.2)
        while _unfinished([pid]):
            time.sleep(0.25)
    finally:
        _stop([fresh])
        marker.unlink(missing_ok=True)
    return moved


def bench_scaling(label: str, database_url: str, redis_url: str) -> ScalingResult:
    result = ScalingResult(label)
    app = create_app(bench_config(database_url, redis_url, 5000))
    with app.app_context():
        try:
            build_schema()
            org = seed_demo(password=f"bench-{uuid.uuid4().hex}")
            price_list_id = seed_bulk(org, PRODUCTS, name="Scale EUR").id
            for workers in WORKER_COUNTS:
                flush_redis(redis_url)
                result.per_minute[workers] = _round(
                    org.id, price_list_id, workers, (database_url, redis_url)
                )
            flush_redis(redis_url)
            result.recovery_seconds = _recovery(org.id, price_list_id, (database_url, redis_url))
        finally:
            db.session.remove()
            db.engine.dispose()
    return result


def table(result: ScalingResult) -> str:
    lines = [
        f"{result.label}: {PROCESSES} creations × {PRODUCTS:,} products",
        f"{'workers':>8} {'processes/min':>14} {'vs 1 worker':>12}",
    ]
    for workers, rate in result.per_minute.items():
        lines.append(f"{workers:>8} {rate:>14.1f} {result.ratio(workers):>11.2f}x")
    lines.append(
        f"SIGKILL of a worker mid-copy → process moving again: "
        f"{result.recovery_seconds:.1f} s from the SIGKILL (a new worker started at once; "
        "shipped settings)"
    )
    return "\n".join(lines)
