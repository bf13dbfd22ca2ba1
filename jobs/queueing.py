"""Putting a process on the queue: one job per attempt, only the process id in it."""

from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError

from jobs.connection import RedisNotConfigured, get_queue
from webapp.extensions import db
from webapp.models import Process

log = logging.getLogger(__name__)

QUEUE_DOWN_MESSAGE = (
    "The queue is not reachable right now. The process is saved as Queued and will start "
    "by itself as soon as the queue is back; nothing is lost."
)


def job_id_for(process_id: int, attempt: int) -> str:
    """Derived from the process id, so the same attempt can never be queued twice."""
    return f"process-{process_id}-{attempt}"


def enqueue_process(process_id: int) -> str | None:
    """Enqueue the next attempt of a committed process; None if Redis is unreachable.

    The process row must already be committed: a worker may pick the job up at once."""
    from jobs.pipeline import run_process

    process = db.session.get(Process, process_id)
    attempt = process.attempts + 1
    job_id = job_id_for(process_id, attempt)
    try:
        get_queue().enqueue(
            run_process,
            process_id,
            job_id=job_id,
            unique=True,
            job_timeout=current_app.config["JOB_TIMEOUT"],
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            meta={"process_id": process_id, "attempt": attempt},
            description=f"{process.name} (attempt {attempt}) — /processes/{process_id}",
        )
    except DuplicateJobError:
        log.info("job %s was already queued by someone else", job_id)
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("could not enqueue process %s: %s", process_id, exc)
        process.enqueue_error = QUEUE_DOWN_MESSAGE
        db.session.commit()
        return None
    process.attempts = attempt
    process.job_id = job_id
    process.enqueue_error = ""
    db.session.commit()
    return job_id


def enqueue_email(outbox_id: int | None) -> None:
    """Put one outbox email on the queue; if the queue is down the reaper relays it later."""
    from jobs.mail import enqueue_email as enqueue

    enqueue(outbox_id)
