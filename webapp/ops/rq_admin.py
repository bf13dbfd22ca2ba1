"""rq-dashboard at /admin/rq, for the distributor's admins only.

rq-dashboard has no auth and no CSRF of its own, and its blueprint is one module-level
object: the guard is attached here, once, at import time — never inside create_app, where a
second app in the same process would fail with "before_request can no longer be called"."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from rq.exceptions import NoSuchJobError
from rq.job import Job
from werkzeug.exceptions import MethodNotAllowed, NotFound

from webapp.extensions import csrf

blueprint = rq_dashboard.blueprint
URL_PREFIX = "/admin/rq"
# rq-dashboard's job page prints the description, metadata and traceback unescaped and needs
# inline script: it is replaced by the app's own page (escaped, under the app's strict CSP).
JOB_VIEW = "rq_dashboard.job_view"
# Its actions that change state: POST only (requeue_all also answers GET upstream).
STATE_CHANGING = {
    "rq_dashboard.requeue_all",
    "rq_dashboard.requeue_job_view",
    "rq_dashboard.delete_job_view",
    "rq_dashboard.empty_queue",
    "rq_dashboard.compact_queue",
}


def is_operator() -> bool:
    return (
        current_user.is_authenticated
        and current_user.is_admin
        and current_user.organization.is_root
    )


@blueprint.before_request
def operators_only():
    """Everyone but the distributor's admins is refused, including on the POST actions."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not is_operator():
        abort(404)
    if request.endpoint in STATE_CHANGING and request.method != "POST":
        raise MethodNotAllowed(valid_methods=["POST"])
    if request.method == "POST" and not _same_origin():
        abort(403)
    return None


def _same_origin() -> bool:
    """The dashboard's own JavaScript cannot send our CSRF token, so its POSTs are checked by
    origin instead (OWASP: verifying origin with standard headers); cookies are SameSite=Lax."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    return urlsplit(source).netloc == request.host


@blueprint.errorhandler(NoSuchJobError)
@blueprint.errorhandler(LookupError)  # an instance number beyond its Redis list
def unknown_job(_error):
    """A job id Redis does not know (expired, malformed, compact), or a Redis instance it
    does not have, is a 404, not a 500."""
    return current_app.handle_http_exception(NotFound())


def job_page(instance_number: int, job_id: str):
    """The app's own page for one job: every value escaped by Jinja, no script at all."""
    try:
        job = Job.fetch(job_id, connection=current_app.redis_conn)
    except (NoSuchJobError, ValueError):
        abort(404)
    latest = job.latest_result()
    return render_template(
        "ops/job.html",
        job=job,
        status=job.get_status(refresh=False),
        meta=json.dumps(job.get_meta(refresh=False), indent=2, sort_keys=True, default=str),
        exc_info=latest.exc_string if latest else None,
        dashboard_url=URL_PREFIX + "/",
    )


# Its forms are exempt from our token only because the origin check above replaces it.
csrf.exempt(blueprint)


def init_app(app: Flask) -> None:
    """Register the dashboard when the app has a Redis to show."""
    if not app.config.get("REDIS_URL"):
        return
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(blueprint, url_prefix=URL_PREFIX)
    app.view_functions[JOB_VIEW] = job_page


def job_url(job_id: str) -> str:
    return f"{URL_PREFIX}/0/view/job/{job_id}"
