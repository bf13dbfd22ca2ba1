"""Sign in with Client ID, username and password; sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp.auth import sessions
from webapp.auth.forms import LoginForm
from webapp.extensions import db, limiter
from webapp.models import Organization, OrgStatus, User
from webapp.ops.health import count_sign_in_failure
from webapp.services.client_ids import normalise_client_id
from webapp.services.passwords import verify_password

bp = Blueprint("auth", __name__)

SIGN_IN_ERROR = "The Client ID, username or password is not correct."


def _client_and_username() -> str:
    """Throttle key: the account being guessed at, whichever IP the guesses come from."""
    client = normalise_client_id(request.form.get("client_id", ""))
    username = request.form.get("username", "").strip().lower()
    return f"login:{client}:{username}"


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_IP"],
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_USER"],
    key_func=_client_and_username,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    """Sign in to the organization named by the Client ID."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate(form.client_id.data, form.username.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a new session at sign-in: no fixation of an earlier one
            login_user(user)
            sessions.start(user)
            session.permanent = True
            return redirect(next_url or url_for("home.index"))
        form.form_errors.append(SIGN_IN_ERROR)
        count_sign_in_failure()
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _authenticate(client_id: str, username: str, password: str) -> User | None:
    """The active user for these credentials, or None; the same work whatever was wrong."""
    user = db.session.scalar(
        select(User)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            Organization.client_id == normalise_client_id(client_id),
            Organization.status == OrgStatus.ACTIVE,
            User.username == username.strip(),
        )
    )
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        return None
    return user


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no open redirect through ?next=."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.post("/logout")
def logout():
    """Sign out: the session is revoked on the server and forgotten by the browser."""
    sessions.end()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
