"""The queue health page: workers, queue lengths, the oldest queued process, stuck ones."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import select

from jobs.connection import RedisNotConfigured, get_queue, get_redis
from jobs.reaper import job_is_live
from webapp.extensions import db
from webapp.models import Process, ProcessStatus, utcnow
from webapp.ops.rq_admin import is_operator

bp = Blueprint("queue_health", __name__, url_prefix="/admin")


@bp.get("/queue-health")
def index():
    """What an operator checks first when creations seem slow."""
    if not is_operator():
        abort(404)
    redis_error = None
    workers, queued, started, failed = [], None, None, None
    try:
        queue = get_queue()
        workers = Worker.all(connection=get_redis())
        queued = queue.count
        started = StartedJobRegistry(queue=queue).count
        failed = FailedJobRegistry(queue=queue).count
    except (RedisError, RedisNotConfigured, OSError) as exc:
        redis_error = str(exc)
    now = utcnow()
    oldest = db.session.scalar(
        select(Process)
        .where(Process.status == ProcessStatus.QUEUED)
        .order_by(Process.created_at)
        .limit(1)
    )
    stale_before = now - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    active = db.session.scalars(
        select(Process).where(Process.status.in_([ProcessStatus.QUEUED, ProcessStatus.RUNNING]))
    ).all()
    stuck = []
    for process in active:
        if process.status == ProcessStatus.RUNNING:
            if process.heartbeat_at is None or process.heartbeat_at < stale_before:
                stuck.append((process, "no heartbeat since the worker last reported"))
        elif redis_error is None and not job_is_live(process.job_id):
            stuck.append((process, "queued, but its job is not in the queue"))
    return render_template(
        "ops/queue_health.html",
        workers=workers,
        queued=queued,
        started=started,
        failed=failed,
        redis_error=redis_error,
        oldest=oldest,
        oldest_age=(now - oldest.created_at).total_seconds() if oldest else None,
        stuck=stuck,
        active_count=len(active),
    )
