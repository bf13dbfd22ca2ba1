"""Operators: health and readiness, metrics, the RQ dashboard's guard, queue health, logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select, update

from tests.conftest import Auth
from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import Organization, Process, User, utcnow
from webapp.ops.logs import ContextFilter, JsonFormatter
from webapp.services.passwords import hash_password
from webapp.services.processes import lifecycle


def test_healthz_and_readyz(app, client):
    """/healthz is always 200; /readyz is 200 with the database and Redis reachable."""
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(app, client):
    """A dependency down makes the instance not ready, saying which one."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions["redis_connection"] = None
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("error")


def test_metrics_after_a_creation(app, demo, auth, client, run_jobs):
    """Processes by status, task durations per step, queue depth and sign-in failures."""
    auth.login(password="wrong-password-here")
    auth.login()
    submit_creation(client, app)
    queued = client.get("/metrics").get_data(as_text=True)
    assert 'trbss_processes{status="Queued"} 1.0' in queued
    assert 'trbss_queue_depth{queue="processes"} 1.0' in queued, queued
    run_jobs()
    text = client.get("/metrics").get_data(as_text=True)
    assert 'trbss_processes{status="Completed"} 1.0' in text
    assert 'trbss_task_duration_seconds_count{step="copy_products"} 1.0' in text
    assert "trbss_sign_in_failures_total 1.0" in text


def _staff_user(app, username="clerk", role="staff", client_id="DEMO"):
    with app.app_context():
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.client_id == client_id)
        )
        db.session.add(
            User(
                organization_id=org_id,
                username=username,
                role=role,
                password_hash=hash_password("clerk-password-123"),
            )
        )
        db.session.commit()


def test_rq_dashboard_is_for_the_distributors_admins_only(app, demo, auth, client):
    """Admins see it; staff get 404; signed-out visitors go to sign-in."""
    anonymous = app.test_client()
    assert "/login" in anonymous.get("/admin/rq/").headers["Location"]
    auth.login()
    assert client.get("/admin/rq/").status_code == 200
    assert client.get("/admin/rq/0/data/queues.json").status_code == 200
    _staff_user(app)
    clerk = app.test_client()
    Auth(clerk).login(username="clerk", password="clerk-password-123")
    assert clerk.get("/admin/rq/").status_code == 404
    assert (
        clerk.post(
            "/admin/rq/requeue/processes", headers={"Origin": "http://localhost"}
        ).status_code
        == 404
    )


def test_rq_dashboard_posts_need_our_origin(app, demo, auth, client):
    """Its POST actions (no CSRF token of their own) are refused from another origin."""
    auth.login()
    assert client.post("/admin/rq/requeue/processes").status_code == 403
    assert (
        client.post(
            "/admin/rq/requeue/processes", headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    ok = client.post("/admin/rq/requeue/processes", headers={"Origin": "http://localhost"})
    assert ok.status_code == 200


def test_queue_health_lists_stuck_processes_and_links_jobs(app, demo, auth, client):
    """A Running process without a heartbeat appears as stuck with a link to its page."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        pid = db.session.scalar(select(Process.id))
        job_id = db.session.scalar(select(Process.job_id))
        assert lifecycle.claim(pid, "a-worker")
        db.session.execute(update(Process).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    page = client.get("/admin/queue-health").get_data(as_text=True)
    assert "Stuck processes" in page and f"/processes/{pid}" in page
    assert "no heartbeat" in page
    process_page = client.get(f"/processes/{pid}").get_data(as_text=True)
    assert f"/admin/rq/0/view/job/{job_id}" in process_page


def test_log_lines_are_json_with_the_request_id(app, client):
    """Every record carries the request id, and the response echoes it."""
    response = client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc"
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        ContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["request_id"] == "abc"
