"""SIGKILL of a real worker and its work-horse at every task boundary and inside the product
copy: once a worker runs again, the process completes with exactly the rows of a clean run."""

from __future__ import annotations

import time

import pytest

from tests.chaos.conftest import (
    expected_snapshot,
    submit_northwind,
    tenant_snapshot,
    wait_completed,
)
from webapp.services.processes.creation_steps import CREATION_STEPS

KILL_POINTS = [f"before:{step.key}" for step in CREATION_STEPS] + [
    "copy_products:batch-uncommitted:3",  # in the middle of a batch: its INSERT not committed
    "copy_products:batch-committed:3",  # between a batch commit and the next progress update
    "create_price_list:batch-uncommitted:2",
]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("point", KILL_POINTS)
def test_process_completes_after_worker_and_horse_are_killed(app, demo, workers, point):
    """Kill at `point`, start a new worker: Completed within 60 s, no duplicates."""
    process_id = submit_northwind(app)
    doomed = workers.start(pause_at=point)
    horse = workers.wait_paused()
    workers.kill(doomed, horse)
    restarted = time.monotonic()
    workers.start()
    wait_completed(app, process_id, timeout=60)
    assert time.monotonic() - restarted < 60
    expected_snapshot(tenant_snapshot(app, process_id))
