"""The RQ worker, started through `flask --app wsgi worker` so jobs have an app context."""

from __future__ import annotations

import logging

from flask import current_app
from rq import Worker

from jobs import reaper
from jobs.connection import get_queue, get_redis
from webapp.extensions import db

log = logging.getLogger(__name__)


class ProcessWorker(Worker):
    """An RQ worker that also runs our reaper as part of RQ's periodic maintenance."""

    def main_work_horse(self, job, queue):
        # The forked horse must not reuse the parent's pooled database connections.
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        run_reaper()


def run_reaper() -> None:
    report = reaper.sweep()
    if report.requeued or report.failed:
        log.info("reaper: re-enqueued %s, failed %s", report.requeued, report.failed)


def run_worker(burst: bool = False, name: str | None = None) -> bool:
    """Run one worker on the process queue until stopped (or until empty with burst)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    worker = ProcessWorker(
        [get_queue()],
        connection=get_redis(),
        name=name,
        # Short TTL and maintenance interval: a dead worker's job is noticed in about a
        # minute instead of RQ's default of several; our reaper rides on the same tick.
        worker_ttl=current_app.config["WORKER_TTL"],
        maintenance_interval=current_app.config["MAINTENANCE_INTERVAL"],
        job_monitoring_interval=current_app.config["JOB_MONITORING_INTERVAL"],
    )
    return worker.work(burst=burst, with_scheduler=False)
