"""Security headers on every response and the sign-in guard for every page."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.exceptions import BadRequest

from webapp.auth import sessions
from webapp.extensions import db, login_manager
from webapp.models import User
from webapp.services import images, two_factor

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

RQ_DASHBOARD_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)

# Endpoints anyone may reach; every other endpoint needs a signed-in user.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.two_factor",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
    "auth.unlock",
    "static",
    "home.favicon",
    "ops.healthz",
    "ops.readyz",
    "ops.metrics",
    "ops.tls_ask",
}
PROBE_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})
# What a user who must set up two-factor first may still reach.
ENROLMENT_ENDPOINTS = {"account.two_factor_setup", "account.recovery_codes", "auth.logout"}
# The storefront is public (its customers have their own session) and so are uploaded images.
# The JSON API authenticates every request by its API token itself (webapp/api/routes.py).
PUBLIC_BLUEPRINTS = {"storefront", "media", "api"}


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @app.url_value_preprocessor
    def reject_nul_bytes(_endpoint, view_args):
        # PostgreSQL text cannot hold NUL, and no field of ours has a use for it: refuse the
        # request before any loader or view can query or store it. This runs before the
        # blueprints' own URL preprocessors (the storefront looks its slug up in one). Under
        # /api/ the blueprint's handler for 400 turns it into a problem, like any HTTP error.
        values = [v for vs in (*request.args.listvalues(), *request.form.listvalues()) for v in vs]
        values += [v for v in (view_args or {}).values() if isinstance(v, str)]
        if request.is_json:
            try:
                payload = request.get_json(silent=True)
            except RecursionError:  # JSON nested deeper than the parser goes: not a 500
                raise BadRequest("The JSON body is nested too deeply.") from None
            values += _json_strings(payload)
        if any("\x00" in value for value in values):
            raise NulCharacter()

    @app.before_request
    def require_sign_in():
        # Deny by default: a new blueprint cannot forget to protect its routes.
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if not current_user.is_authenticated:
            if isinstance(current_user._get_current_object(), User):
                # Flask-Login counts a disabled user as signed out; say why, end the session.
                sessions.end()
                logout_user()
                session.clear()
                flash(sessions.DISABLED_MESSAGE, "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        ended = sessions.still_valid(current_user)
        if ended:
            logout_user()
            session.clear()
            flash(ended, "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if request.endpoint not in ENROLMENT_ENDPOINTS and two_factor.must_enrol(current_user):
            flash(
                "Your organization requires two-factor authentication for administrators. "
                "Set it up now to continue.",
                "info",
            )
            return redirect(url_for("account.two_factor_setup"))
        return None

    @app.after_request
    def security_headers(response):
        if request.blueprint == "rq_dashboard" and request.endpoint != "rq_dashboard.job_view":
            # rq-dashboard renders inline scripts and underscore templates (eval); only the
            # distributor's admins reach it, and it still may not be framed. Its job page, the
            # one that printed text unescaped, is the app's own (webapp/ops/rq_admin.py).
            response.headers["Content-Security-Policy"] = RQ_DASHBOARD_POLICY
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # Probes (load balancers, Prometheus) hit these every few seconds: no user is loaded
        # for them, and they never show anything personal.
        if request.endpoint not in PROBE_ENDPOINTS and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from flask_wtf.csrf import CSRFError

    upload_limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    image_limit_mb = images.MAX_BYTES // (1024 * 1024)
    for code_or_exception, title, text in [
        (400, "Bad request", "The request could not be understood. Go back and try again."),
        (403, "Not allowed", "You do not have permission to do this."),
        (404, "Not found", "There is nothing here, or it belongs to another organization."),
        (405, "Not allowed", "This page does not accept that kind of request."),
        (
            413,
            "Too large",
            f"What you sent is larger than {upload_limit_mb} MB. Images may be up to "
            f"{image_limit_mb} MB each; go back and choose smaller files. Nothing was changed.",
        ),
        (429, "Too many attempts", "Too many sign-in attempts. Wait a minute, then try again."),
        (
            CSRFError,
            "The form expired",
            "The page was open too long or came from elsewhere. "
            "Reload the page and try again; nothing was changed.",
        ),
        (NulCharacter, "Invalid characters", NulCharacter.description),
    ]:
        code = getattr(code_or_exception, "code", code_or_exception)
        app.register_error_handler(code_or_exception, _error_handler(code, title, text))


class NulCharacter(BadRequest):
    """A request carrying a NUL character in a field, the query string or the path."""

    description = (
        "The request contained a NUL character, which no field accepts. "
        "Remove it and try again; nothing was changed."
    )


def _json_strings(value) -> list[str]:
    """Every string (keys included) in a parsed JSON value; iterative, so that any depth the
    parser accepted is walked without a RecursionError."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _error_handler(code: int, title: str, text: str):
    def handler(_error):
        return render_template("error.html", code=code, title=title, text=text), code

    return handler
