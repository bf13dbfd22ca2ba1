"""A Redis restart or outage mid-process: the database is the truth, the process completes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.chaos.conftest import (
    expected_snapshot,
    submit_northwind,
    tenant_snapshot,
    wait_completed,
)
from webapp.extensions import db
from webapp.models import Process

pytestmark = pytest.mark.slow


def test_redis_restart_while_a_job_runs(app, demo, workers, own_redis):
    """Redis restarts (losing every job) while the horse is mid-copy; the process completes."""
    process_id = submit_northwind(app)
    worker = workers.start(pause_at="copy_products:batch-committed:2", redis_url=own_redis.url)
    workers.wait_paused()
    own_redis.restart()
    workers.marker.unlink()  # let the job go on, against a Redis that forgot it
    wait_completed(app, process_id, timeout=60)
    expected_snapshot(tenant_snapshot(app, process_id))
    assert worker.poll() is None  # the worker survived the restart


def test_redis_restart_loses_a_queued_job_and_the_reaper_requeues_it(app, demo, workers, own_redis):
    """A Queued process whose job vanished with a Redis restart is re-enqueued and completes."""
    process_id = submit_northwind(app)
    with app.app_context():
        assert db.session.scalar(select(Process.attempts).where(Process.id == process_id)) == 1
    own_redis.restart()  # the queued job is gone
    workers.start(redis_url=own_redis.url)
    wait_completed(app, process_id, timeout=60)
    with app.app_context():
        assert db.session.scalar(select(Process.attempts).where(Process.id == process_id)) == 2
    expected_snapshot(tenant_snapshot(app, process_id))


def test_worker_killed_and_redis_restarted(app, demo, workers, own_redis):
    """Both at once: the worker dies mid-copy and Redis restarts; a new worker finishes it."""
    process_id = submit_northwind(app)
    doomed = workers.start(pause_at="copy_products:batch-uncommitted:4", redis_url=own_redis.url)
    horse = workers.wait_paused()
    workers.kill(doomed, horse)
    own_redis.restart()
    workers.start(redis_url=own_redis.url)
    wait_completed(app, process_id, timeout=60)
    expected_snapshot(tenant_snapshot(app, process_id))
