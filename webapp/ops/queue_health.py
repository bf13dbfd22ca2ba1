"""The queue health page: workers, queue lengths, the oldest queued process, stuck ones."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Process, ProcessStatus, utcnow
from webapp.ops.rq_admin import is_operator
from webapp.services import maintenance_errors, queue_state

bp = Blueprint("queue_health", __name__, url_prefix="/admin")


@bp.get("/queue-health")
def index():
    """What an operator checks first when creations seem slow."""
    if not is_operator():
        abort(404)
    state = queue_state.read()
    redis_error = state.error
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
        elif redis_error is None and not queue_state.job_is_live(process.job_id):
            stuck.append((process, "queued, but its job is not in the queue"))
    return render_template(
        "ops/queue_health.html",
        workers=state.workers,
        queues=state.queues,
        maintenance_errors=maintenance_errors.totals(),
        redis_error=redis_error,
        oldest=oldest,
        oldest_age=(now - oldest.created_at).total_seconds() if oldest else None,
        stuck=stuck,
        active_count=len(active),
    )
