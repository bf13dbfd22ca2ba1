"""The RQ worker, started through `flask --app wsgi worker` so jobs have an app context.

Nothing kills it: an error in maintenance (our reaper included) is logged and counted, Redis
going away while a job runs leaves the job running and the worker waiting for Redis to come
back, and a work loop that RQ ends on an error is started again once Redis answers. Only a
stop request (SIGTERM, Ctrl-C) or burst mode ends it."""

from __future__ import annotations

import contextlib
import logging
import os
import time

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker
from rq.scheduler import RQScheduler

from jobs import reaper
from jobs.connection import all_queues, get_redis
from webapp.extensions import db
from webapp.services import maintenance_errors

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
MAX_WAIT = 30.0


class WorkerBoundScheduler(RQScheduler):
    """RQ's scheduler (it runs retries with intervals), stopping when the worker that started
    it is gone: a SIGKILLed worker must not leave an orphan scheduler behind."""

    def start(self):
        self._worker_pid = os.getpid()
        return super().start()

    def heartbeat(self):
        if os.getppid() != getattr(self, "_worker_pid", os.getppid()):
            self.log.info("Scheduler: its worker is gone; stopping")
            self.request_stop()
        super().heartbeat()


class ProcessWorker(Worker):
    """An RQ worker that also runs our reaper on RQ's periodic maintenance tick."""

    def _start_scheduler(self, burst=False, logging_level="INFO", *args, **kwargs):
        # RQ's own method, with our scheduler class: it builds an RQScheduler by name.
        self.scheduler = WorkerBoundScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()

    @property
    def dequeue_timeout(self) -> int:
        # RQ waits up to WORKER_TTL - 15 s for a job before its maintenance tick can run:
        # an idle worker then swept for dead processes every 15 s whatever
        # MAINTENANCE_INTERVAL said. Waiting no longer than that interval keeps the promise.
        return max(1, min(super().dequeue_timeout, self.maintenance_interval))

    def main_work_horse(self, job, queue):
        # The forked horse must not reuse the parent's pooled database connections.
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except Exception:  # RQ's own clean-up failing must not end the worker
            log.exception("worker %s: RQ maintenance failed; continuing", self.name)
            maintenance_errors.count("rq_maintenance")
        run_reaper()

    def maintain_heartbeats(self, job):
        # Redis down while the horse works: keep waiting for the horse (its work goes to the
        # database), and beat again when Redis is back.
        try:
            super().maintain_heartbeats(job)
        except REDIS_DOWN as exc:
            log.warning("worker %s: heartbeat for job %s failed: %s", self.name, job.id, exc)

    def execute_job(self, job, queue):
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            log.warning("worker %s: Redis failed around job %s: %s", self.name, job.id, exc)
            self._wait_for_horse_quietly()

    def _wait_for_horse_quietly(self) -> None:
        """Let a running horse finish without touching Redis; the database has its outcome
        and the reaper puts right whatever RQ could not record."""
        pid = getattr(self, "_horse_pid", 0)
        if pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._horse_pid = 0


def run_reaper() -> None:
    """One reaper sweep; any error is logged and counted, never raised into the worker."""
    try:
        report = reaper.sweep()
    except Exception:
        log.exception("reaper failed; it runs again on the next maintenance tick")
        maintenance_errors.count("reaper")
        _forget_session()
        return
    if report.requeued or report.failed:
        log.info("reaper: re-enqueued %s, failed %s", report.requeued, report.failed)


def _forget_session() -> None:
    try:
        db.session.remove()
    except Exception:  # a broken connection is discarded by the pool anyway
        log.debug("could not close the database session", exc_info=True)


def wait_for_redis() -> None:
    """Block until Redis answers, backing off up to MAX_WAIT seconds between tries."""
    delay = 1.0
    while True:
        try:
            get_redis().ping()
            return
        except (RedisError, OSError) as exc:
            log.warning("Redis unreachable (%s); trying again in %.0f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, MAX_WAIT)


def run_worker(burst: bool = False, name: str | None = None) -> bool:
    """Work every queue, short work first, until stopped (or until empty with burst)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = current_app.config
    worked = False
    for loop in range(1_000_000_000):
        wait_for_redis()
        worker = ProcessWorker(
            all_queues(),
            connection=get_redis(),
            # A worker that could not register its death keeps its name for a while.
            name=f"{name}-{loop}" if name and loop else name,
            # Short TTL and maintenance interval: a dead worker's job is noticed in about a
            # minute instead of RQ's default of several; our reaper rides on the same tick.
            worker_ttl=config["WORKER_TTL"],
            maintenance_interval=config["MAINTENANCE_INTERVAL"],
            job_monitoring_interval=config["JOB_MONITORING_INTERVAL"],
        )
        try:
            # The scheduler (one per Redis, lock-protected) runs retries with intervals.
            worked = worker.work(burst=burst, with_scheduler=True) or worked
        except REDIS_DOWN as exc:
            log.warning("worker %s: Redis failed: %s", worker.name, exc)
        # RQ marks a stop request by its date (an idle worker stops at once, a busy one
        # after its job); either way it was asked to stop.
        if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
            return worked
        log.warning("worker %s: work loop ended unexpectedly; starting it again", worker.name)
        time.sleep(1)
    return worked
