"""Our own reaper: RQ alone leaves a killed job "started" for minutes and forgets jobs on a
Redis restart. The database is the truth, so we look for work that should be moving and is
not — processes, back-ordering events, email — and give it a new job (a process a bounded
number of times), then purge what is kept only for a while (sessions, links, read
notifications, finished emails, idempotency records, tenants past their retention).

Every worker runs a sweep on its maintenance tick; a Redis lock lets one of them do it. Each
part of the sweep fails alone: an error in one is logged and counted, and the others run."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from jobs.connection import RedisNotConfigured, get_redis
from jobs.queueing import (
    email_job_id,
    enqueue_email,
    enqueue_event,
    enqueue_process,
    event_job_id,
    job_is_live,
)
from webapp.extensions import db
from webapp.models import DomainEvent, OutboxEmail, Process, ProcessStatus, utcnow
from webapp.services import account_cleanup, maintenance_errors, tenant_lifecycle
from webapp.services.processes import lifecycle

log = logging.getLogger(__name__)

LOCK_NAME = "trbss:reaper-lock"


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped_locked: bool = False


def sweep() -> SweepReport:
    """One sweep, if no other worker is sweeping right now."""
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
        for part in (requeue_processes, relay_events, relay_email, *PURGES):
            _guarded(part, report)
    finally:
        with contextlib.suppress(RedisError, OSError):  # the lock expires by itself anyway
            lock.release()
        with contextlib.suppress(Exception):
            db.session.remove()
    return report


def _guarded(part: Callable[[SweepReport], None], report: SweepReport) -> None:
    try:
        part(report)
    except Exception:
        log.exception("reaper: %s failed; the rest of the sweep goes on", part.__name__)
        maintenance_errors.count(f"reaper.{part.__name__}")
        report.errors.append(part.__name__)
        with contextlib.suppress(Exception):
            db.session.rollback()


def _stale_before():
    return utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])


def requeue_processes(report: SweepReport) -> None:
    """Queued processes without a live job and Running ones whose heartbeat is stale get a
    new job; after their last attempt they fail (and their starter is told)."""
    stale_before = _stale_before()
    candidates = db.session.scalars(
        select(Process).where(Process.status.in_(lifecycle.ACTIVE)).order_by(Process.id)
    ).all()
    for process in candidates:
        if process.status == ProcessStatus.QUEUED:
            needs_job = not job_is_live(process.job_id)
        else:
            needs_job = process.heartbeat_at is None or process.heartbeat_at < stale_before
        if not needs_job:
            continue
        if process.attempts >= process.attempt_limit:
            if lifecycle.give_up(process):
                report.failed.append(process.id)
            continue
        log.info(
            "reaper: process %s (%s) has no live job; re-enqueueing", process.id, process.status
        )
        if enqueue_process(process.id):
            report.requeued.append(process.id)


def relay_events(report: SweepReport) -> None:
    """Back-ordering events still Pending a while after they were recorded lost their job
    (queue down at the time, Redis restarted): queue them again; applying is idempotent."""
    rows = db.session.execute(
        select(DomainEvent.subscription_id, func.min(DomainEvent.id))
        .where(DomainEvent.status == "Pending", DomainEvent.created_at < _stale_before())
        .group_by(DomainEvent.subscription_id)
    ).all()
    for subscription_id, event_id in rows:
        if not job_is_live(event_job_id(event_id)) and enqueue_event(subscription_id, event_id):
            report.events.append(event_id)


def relay_email(report: SweepReport) -> None:
    """Pending emails whose job is gone (queue down when they were written, Redis restarted)
    are queued again; the job sends each once."""
    ids = db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "Pending", OutboxEmail.created_at < _stale_before())
        .order_by(OutboxEmail.id)
        .limit(500)
    ).all()
    for outbox_id in ids:
        if not job_is_live(email_job_id(outbox_id)) and enqueue_email(outbox_id):
            report.emails.append(outbox_id)


def purge_sessions(report: SweepReport) -> None:
    """Ended staff and customer sessions, used or expired one-time links."""
    account_cleanup.purge_expired()


def purge_notifications(report: SweepReport) -> None:
    """Notifications read a while ago."""
    account_cleanup.purge_notifications()


def purge_outbox(report: SweepReport) -> None:
    """Emails sent, logged or given up on a while ago."""
    account_cleanup.purge_outbox()


def purge_idempotency(report: SweepReport) -> None:
    """Expired API idempotency records."""
    account_cleanup.purge_idempotency()


def purge_tenants(report: SweepReport) -> None:
    """Tenants marked as deleted past their retention (a process each)."""
    tenant_lifecycle.launch_due_purges()


# What is kept only for a while, each purge a part of its own: one failing leaves the others
# (and the worker) running. Each deletes in bounded, committed batches.
PURGES = (purge_sessions, purge_notifications, purge_outbox, purge_idempotency, purge_tenants)
