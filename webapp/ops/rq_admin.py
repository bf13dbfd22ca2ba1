"""rq-dashboard at /admin/rq, for the distributor's admins only.

rq-dashboard has no auth and no CSRF of its own, and its blueprint is one module-level
object: the guard is attached here, once, at import time — never inside create_app, where a
second app in the same process would fail with "before_request can no longer be called"."""

from __future__ import annotations

from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import csrf

blueprint = rq_dashboard.blueprint
URL_PREFIX = "/admin/rq"


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


# Its forms are exempt from our token only because the origin check above replaces it.
csrf.exempt(blueprint)


def init_app(app: Flask) -> None:
    """Register the dashboard when the app has a Redis to show."""
    if not app.config.get("REDIS_URL"):
        return
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(blueprint, url_prefix=URL_PREFIX)


def job_url(job_id: str) -> str:
    return f"{URL_PREFIX}/0/view/job/{job_id}"
