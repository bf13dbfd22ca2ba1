"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import contextlib
import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from redis.exceptions import RedisError
from sqlalchemy import func, select, text

from jobs.connection import RedisNotConfigured, all_queues, get_redis
from webapp.extensions import db
from webapp.models import Process
from webapp.services import maintenance_errors, metric_totals

bp = Blueprint("ops", __name__)

SIGN_IN_FAILURES_KEY = "trbss:metrics:sign_in_failures"


@bp.get("/healthz")
def healthz():
    """The process is alive (no dependency checked)."""
    return jsonify(status="ok")


@bp.get("/tls/ask")
def tls_ask():
    """On-demand TLS (Caddy's `ask`): 200 only for a platform host or a verified custom domain
    of a Premium, Active tenant, so the proxy never obtains a certificate for anything else."""
    from webapp.services import domains

    host = (request.args.get("domain") or "").strip().lower().rstrip(".")
    if host and (domains.is_platform_host(host) or domains.verified_host(host)):
        return Response("ok\n", mimetype="text/plain")
    return Response("unknown domain\n", status=404, mimetype="text/plain")


@bp.get("/readyz")
def readyz():
    """Database and Redis reachable: 200; otherwise 503 saying which is not."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"; reported, not hidden
        checks["database"] = f"error: {type(exc).__name__}"
        db.session.rollback()
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except (RedisError, RedisNotConfigured, OSError) as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), (200 if ready else 503)


def count_sign_in_failure() -> None:
    """Kept in Redis so every web process adds to the same counter."""
    with contextlib.suppress(RedisError, RedisNotConfigured, OSError):
        get_redis().incr(SIGN_IN_FAILURES_KEY)


class DatabaseCollector:
    """Metrics read from the rows at scrape time, so web and worker processes agree."""

    def collect(self):
        statuses = GaugeMetricFamily("trbss_processes", "Processes by status", labels=["status"])
        for status, count in db.session.execute(
            select(Process.status, func.count()).group_by(Process.status)
        ):
            statuses.add_metric([status], count)
        yield statuses
        finished = CounterMetricFamily(
            "trbss_processes_finished",
            "Processes that ended, by the status they ended in (kept as running totals)",
            labels=["status"],
        )
        for status, total in sorted(metric_totals.totals(metric_totals.PROCESSES_FINISHED).items()):
            finished.add_metric([status], total)
        yield finished

        histogram = HistogramMetricFamily(
            "trbss_task_duration_seconds",
            "Duration of completed tasks since the start, per step (kept as running totals, "
            "so purging old processes takes nothing away)",
            labels=["step"],
        )
        for step, (buckets, total) in sorted(metric_totals.task_histogram().items()):
            histogram.add_metric([step], buckets, total)
        yield histogram

        try:
            depth = GaugeMetricFamily("trbss_queue_depth", "Jobs waiting", labels=["queue"])
            for queue in all_queues():
                depth.add_metric([queue.name], queue.count)
            yield depth
            errors = CounterMetricFamily(
                "trbss_maintenance_errors",
                "Errors in the workers' maintenance (reaper, RQ clean-up); the workers went on",
                labels=["kind"],
            )
            for kind, total in maintenance_errors.totals().items():
                errors.add_metric([kind], total)
            yield errors
            failures = CounterMetricFamily(
                "trbss_sign_in_failures", "Failed sign-ins (counted in Redis: resets with it)"
            )
            failures.add_metric([], int(get_redis().get(SIGN_IN_FAILURES_KEY) or 0))
            yield failures
        except (RedisError, RedisNotConfigured, OSError):
            return


@bp.get("/metrics")
def metrics():
    """Prometheus text format; with METRICS_TOKEN set, a bearer token is required. In
    production without METRICS_TOKEN there are no public metrics (404)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        # Bytes: compare_digest refuses non-ASCII str, which a header may carry (was a 500).
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token.encode()):
            abort(401)
    elif current_app.config.get("APP_ENV") == "production":
        abort(404)
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
