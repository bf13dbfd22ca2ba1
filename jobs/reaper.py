"""Our own reaper: RQ alone leaves a killed job "started" for minutes and forgets jobs on a
Redis restart. The database is the truth, so we look for processes that should be moving
and are not, and give them a new job (a bounded number of times)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update

from jobs.connection import RedisNotConfigured, get_redis
from jobs.queueing import enqueue_process
from webapp.api import idempotency
from webapp.extensions import db
from webapp.models import Process, ProcessStatus, ProcessTask, TaskStatus, utcnow
from webapp.services import audit

log = logging.getLogger(__name__)

LOCK_NAME = "trbss:reaper-lock"
LIVE_JOB_STATES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
}


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped_locked: bool = False


def job_is_live(job_id: str | None) -> bool:
    """True if Redis still has this job waiting, or running on a worker that is alive.

    A job whose worker was SIGKILLed stays "started" for minutes; its worker's key in Redis
    expires after the worker TTL, which is how we know nobody runs it any more."""
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        worker_key = f"{Worker.redis_worker_namespace_prefix}{job.worker_name}"
        if job.worker_name and not get_redis().exists(worker_key):
            return False
        # A live worker refreshes its job's heartbeat every JOB_MONITORING_INTERVAL seconds.
        orphaned_after = max(
            2 * current_app.config["HEARTBEAT_STALE_SECONDS"],
            3 * current_app.config["JOB_MONITORING_INTERVAL"],
        )
        beat = job.last_heartbeat or job.started_at
        if beat is not None:
            beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
            return (utcnow() - beat).total_seconds() < orphaned_after
    return status in LIVE_JOB_STATES


def sweep() -> SweepReport:
    """Re-enqueue Queued processes without a live job and Running ones whose heartbeat is
    stale. Several workers may call this at once: a Redis lock lets one of them do it."""
    report = SweepReport()
    try:
        lock = get_redis().lock(LOCK_NAME, timeout=60, blocking=False)
        if not lock.acquire():
            report.skipped_locked = True
            return report
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("reaper: queue unreachable (%s); will try again", exc)
        return report
    try:
        _sweep(report)
    finally:
        with contextlib.suppress(RedisError):  # the lock expires by itself anyway
            lock.release()
        db.session.remove()
    return report


def _sweep(report: SweepReport) -> None:
    stale_before = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    candidates = db.session.scalars(
        select(Process).where(Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]))
    ).all()
    for process in candidates:
        if process.status == ProcessStatus.QUEUED:
            needs_job = not job_is_live(process.job_id)
        else:
            needs_job = process.heartbeat_at is None or process.heartbeat_at < stale_before
        if not needs_job:
            continue
        if process.attempts >= process.attempt_limit:
            give_up(process)
            report.failed.append(process.id)
            continue
        log.info(
            "reaper: process %s (%s) has no live job; re-enqueueing", process.id, process.status
        )
        if enqueue_process(process.id):
            report.requeued.append(process.id)
    _requeue_pending_events()
    idempotency.purge_expired()


def _requeue_pending_events() -> None:
    """Back-ordering events still Pending a while after they were recorded lost their job
    (queue down at the time, Redis restarted): queue them again; the apply is idempotent."""
    from jobs.backordering import enqueue_subscription
    from webapp.models import DomainEvent

    before = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    rows = db.session.execute(
        select(DomainEvent.subscription_id, func.min(DomainEvent.id))
        .where(DomainEvent.status == "Pending", DomainEvent.created_at < before)
        .group_by(DomainEvent.subscription_id)
    ).all()
    for subscription_id, event_id in rows:
        if not job_is_live(f"backorder-event-{event_id}"):
            enqueue_subscription(subscription_id, event_id)


def give_up(process: Process) -> None:
    """Bounded attempts: after the last one the process is Failed with a clear message."""
    message = (
        f"The process was started {process.attempts} times and its worker stopped each time "
        "before it finished. Check the workers (Queue health), then Retry."
    )
    now = utcnow()
    changed = db.session.execute(
        update(Process)
        .where(
            Process.id == process.id,
            Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]),
        )
        .values(status=ProcessStatus.FAILED, finished_at=now, message=message, runner_token=None)
    ).rowcount
    if not changed:
        db.session.rollback()
        return
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status == TaskStatus.RUNNING)
        .values(status=TaskStatus.FAILED, finished_at=now, message=message)
    )
    db.session.execute(
        update(ProcessTask)
        .where(ProcessTask.process_id == process.id, ProcessTask.status == TaskStatus.PENDING)
        .values(status=TaskStatus.SKIPPED, message="Skipped because an earlier task failed.")
    )
    audit.record(
        organization_id=process.organization_id,
        actor=None,
        action="process.failed",
        entity_type="tenant_reseller",
        entity_id=process.tenant_reseller_id,
        summary=message,
        process_id=process.id,
    )
    db.session.commit()
