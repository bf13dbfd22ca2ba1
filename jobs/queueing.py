"""Every enqueue of the application, in one place: which queue, which job id, which timeouts,
TTLs and retries, and one way of handling a queue that is down.

Jobs carry ids only (never text a user typed: the RQ dashboard shows descriptions) and are
named by dotted path, so this module imports no job code. A queue that is down is never an
error for the caller: the database row is the truth, and the reaper enqueues what is still
waiting once Redis is back."""

from __future__ import annotations

import logging
from datetime import UTC

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from jobs.connection import EMAIL, EVENTS, PROCESSES, RedisNotConfigured, get_queue, get_redis
from webapp.extensions import db
from webapp.models import Process, utcnow

log = logging.getLogger(__name__)

QUEUE_ERRORS = (RedisError, RedisNotConfigured, OSError)
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
DAY = 24 * 3600

# Back-ordering events are retried soon (a deadlock, a restart), email with a longer back-off
# (a mail server that is down for an hour is not unusual). Processes are not retried by RQ:
# the reaper re-enqueues them, resuming from their task rows, a bounded number of times.
EVENT_RETRY = (5, 30, 120)
EMAIL_RETRY = (30, 120, 600, 1800, 3600)


def _submit(queue: str, function: str, *args, job_id: str, **options) -> bool:
    """Enqueue once under `job_id`; True if the job is on the queue (ours or already there),
    False if the queue is unreachable now."""
    try:
        get_queue(queue).enqueue(
            function,
            *args,
            job_id=job_id,
            unique=True,
            result_ttl=options.pop("result_ttl", DAY),
            failure_ttl=options.pop("failure_ttl", 7 * DAY),
            **options,
        )
    except DuplicateJobError:
        log.info("job %s was already queued", job_id)
    except QUEUE_ERRORS as exc:
        log.warning("could not enqueue %s: %s", job_id, exc)
        return False
    return True


def job_is_live(job_id: str | None) -> bool:
    """True if Redis still has this job waiting (or scheduled for a retry), or running on a
    worker that is alive.

    A job whose worker was SIGKILLed stays "started" for minutes; its worker's key in Redis
    expires after the worker TTL, and its job heartbeat stops: that is how we know nobody
    runs it any more."""
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
        orphaned_after = max(
            2 * current_app.config["HEARTBEAT_STALE_SECONDS"],
            3 * current_app.config["JOB_MONITORING_INTERVAL"],
        )
        beat = job.last_heartbeat or job.started_at
        if beat is not None:
            beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
            return (utcnow() - beat).total_seconds() < orphaned_after
    return status in LIVE_JOB_STATES


def forget_dead_job(job_id: str, also_waiting: bool = False) -> None:
    """A finished, failed or orphaned job with this id would block a new one (unique ids);
    `also_waiting` also replaces one that waits (a staff Retry should not wait for RQ's
    scheduled retry)."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return
    waiting = also_waiting and job.get_status(refresh=False) != JobStatus.STARTED
    if waiting or not job_is_live(job_id):
        job.delete()


# --- Processes --------------------------------------------------------------------------------


def process_job_id(process_id: int, attempt: int) -> str:
    """Derived from the process id, so the same attempt can never be queued twice."""
    return f"process-{process_id}-{attempt}"


def enqueue_process(process_id: int) -> str | None:
    """Enqueue the next attempt of a committed process; None if Redis is unreachable (the
    process keeps a message saying so, and the reaper enqueues it later)."""
    from webapp.services.processes.lifecycle import QUEUE_DOWN_MESSAGE

    process = db.session.get(Process, process_id)
    attempt = process.attempts + 1
    job_id = process_job_id(process_id, attempt)
    queued = _submit(
        PROCESSES,
        "jobs.pipeline.run_process",
        process_id,
        job_id=job_id,
        job_timeout=current_app.config["JOB_TIMEOUT"],
        meta={"process_id": process_id, "attempt": attempt},
        description=f"process {process_id} attempt {attempt}",
    )
    if not queued:
        process.enqueue_error = QUEUE_DOWN_MESSAGE
        db.session.commit()
        return None
    process.attempts = attempt
    process.job_id = job_id
    process.enqueue_error = ""
    db.session.commit()
    return job_id


# --- Back-ordering events ---------------------------------------------------------------------


def event_job_id(event_id: int) -> str:
    return f"backorder-event-{event_id}"


def enqueue_event(subscription_id: int, event_id: int, now: bool = False) -> bool:
    """Propagate a subscription's pending events (the job applies them oldest first). `now`
    replaces a retry RQ has scheduled for later (a staff Retry)."""
    job_id = event_job_id(event_id)
    try:
        forget_dead_job(job_id, also_waiting=now)
    except QUEUE_ERRORS as exc:
        log.warning("event %s stays Pending: %s", event_id, exc)
        return False
    return _submit(
        EVENTS,
        "jobs.backordering.propagate_subscription",
        subscription_id,
        job_id=job_id,
        job_timeout=300,
        retry=Retry(max=len(EVENT_RETRY), interval=list(EVENT_RETRY)),
        meta={"subscription_id": subscription_id, "event_id": event_id},
        description=f"back-ordering of subscription {subscription_id} (event {event_id})",
    )


# --- Email ------------------------------------------------------------------------------------


def email_job_id(outbox_id: int) -> str:
    return f"email-{outbox_id}"


def enqueue_email(outbox_id: int | None) -> bool:
    """Send one outbox email; if the queue is down the reaper relays it later."""
    if outbox_id is None:
        return False
    job_id = email_job_id(outbox_id)
    try:
        forget_dead_job(job_id)
    except QUEUE_ERRORS as exc:
        log.warning("email %s stays Pending: %s", outbox_id, exc)
        return False
    return _submit(
        EMAIL,
        "jobs.mail.send_outbox_email",
        outbox_id,
        job_id=job_id,
        job_timeout=120,
        retry=Retry(max=len(EMAIL_RETRY), interval=list(EMAIL_RETRY)),
        meta={"outbox_id": outbox_id},
        description=f"email {outbox_id}",
    )


# --- Custom domains ---------------------------------------------------------------------------


def enqueue_domain_check(storefront_id: int) -> bool:
    """Check a storefront's custom domain TXT record now (a staff Save or Check now)."""
    job_id = f"domain-check-{storefront_id}"
    try:
        forget_dead_job(job_id, also_waiting=True)
    except QUEUE_ERRORS as exc:
        log.warning("domain check of storefront %s not queued: %s", storefront_id, exc)
        return False
    return _submit(
        EVENTS,
        "jobs.domains.check_custom_domain",
        storefront_id,
        job_id=job_id,
        job_timeout=60,
        result_ttl=600,
        failure_ttl=DAY,
        meta={"storefront_id": storefront_id},
        description=f"custom domain check of storefront {storefront_id}",
    )
