"""Sign in (Client ID, username, password, and the second factor where it is on), sign out,
and the pages reached from emailed links: reset a forgotten password, accept an invitation,
unlock sign-in after repeated failures."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from webapp.auth import devices, sessions
from webapp.auth.forms import ForgotPasswordForm, LoginForm, NewPasswordForm, TwoFactorForm
from webapp.extensions import db
from webapp.models import TokenPurpose, User
from webapp.ops.health import count_sign_in_failure
from webapp.services import accounts, mail, one_time_links, sign_in, throttle
from webapp.services import two_factor as second_factor

bp = Blueprint("auth", __name__)

SIGN_IN_ERROR = "The Client ID, username or password is not correct."
CODE_ERROR = "That code is not correct. Enter the current code from your app, or a recovery code."
PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60
# The same answer whether or not the Client ID and username or email are known.
RESET_SENT = (
    "If that account exists and has an email address, we have sent it a link to choose a new "
    "password. The link works once, for 1 hour. Check your inbox (and spam folder)."
)


def _throttled_message(seconds: int) -> str:
    return (
        f"Too many sign-in attempts failed. Try again in {throttle.describe_wait(seconds)}. "
        "If this is your account, check your email: after repeated failures its owner gets a "
        "link that unlocks sign-in at once. You can also reset your password."
    )


def _device() -> sign_in.Device | None:
    return devices.current()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in to the organization named by the Client ID."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = sign_in.sign_in_staff(
            form.client_id.data,
            form.username.data,
            form.password.data,
            request.remote_addr or "",
            _device(),
        )
        db.session.commit()  # the unlock email, if one was written
        mail.deliver(outcome.emails)
        next_url = _safe_next(request.args.get("next"))
        if outcome.user is not None:
            if outcome.user.two_factor_enabled:
                session.clear()
                session[PENDING_KEY] = {
                    "uid": outcome.user.id,
                    "at": int(time.time()),
                    "next": next_url,
                }
                return redirect(url_for("auth.two_factor"))
            return _complete_sign_in(outcome.user, next_url)
        if outcome.closed:
            form.form_errors.append(outcome.closed)
            return render_template("auth/login.html", form=form), 403
        count_sign_in_failure()
        if outcome.throttled:
            form.form_errors.append(_throttled_message(outcome.wait_seconds))
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(outcome.wait_seconds)}
        form.form_errors.append(SIGN_IN_ERROR)
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _complete_sign_in(user: User, next_url: str | None):
    session.clear()  # a new session at sign-in: no fixation of an earlier one
    login_user(user)
    sessions.start(user)
    session.permanent = True
    response = redirect(next_url or url_for("home.index"))
    return devices.trust(response, sign_in.user_subject(user.id))


def _pending_user() -> User | None:
    """The user whose password was right a moment ago and who still owes the second factor."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    started = pending.get("at")
    if not isinstance(started, int) or time.time() - started > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("uid")) if isinstance(pending.get("uid"), int) else None
    if user is None or not user.active or not user.two_factor_enabled:
        return None
    return user


@bp.route("/login/two-factor", methods=["GET", "POST"])
def two_factor():
    """The second step of sign-in: the code from the authenticator app or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again: the second step waits 5 minutes at most.", "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        outcome = sign_in.second_factor(user, form.code.data, request.remote_addr or "", _device())
        db.session.commit()
        mail.deliver(outcome.emails)
        if outcome.user is not None:
            next_url = session.get(PENDING_KEY, {}).get("next")
            left = second_factor.recovery_codes_left(user)
            response = _complete_sign_in(user, _safe_next(next_url))
            if left < second_factor.RECOVERY_CODE_COUNT and left <= 3:
                flash(
                    f"You have {left} recovery code{'s' if left != 1 else ''} left. Make new "
                    "ones on your account page.",
                    "warning",
                )
            return response
        if outcome.closed:
            form.form_errors.append(outcome.closed)
            return render_template("auth/login.html", form=form), 403
        count_sign_in_failure()
        if outcome.throttled:
            form.code.errors = [*form.code.errors, _throttled_message(outcome.wait_seconds)]
            page = render_template("auth/two_factor.html", form=form)
            return page, 429, {"Retry-After": str(outcome.wait_seconds)}
        form.code.errors = [*form.code.errors, CODE_ERROR]
        return render_template("auth/two_factor.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form), status


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no open redirect through ?next=."""
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
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


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by email; the answer never says whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        emails = accounts.request_password_reset(form.client_id.data, form.identifier.data)
        db.session.commit()
        mail.deliver(emails)
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


def _link_page(purpose: TokenPurpose, token: str, template: str, done_message: str):
    checked = one_time_links.check(purpose, token)
    if checked.token is None or checked.token.user_id is None:
        return render_template(template, form=None, problem=checked.problem), 404
    user = db.session.get(User, checked.token.user_id)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password_from_link(purpose, token, form.password.data)
        except accounts.PasswordProblem as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        except accounts.AccountError as exc:
            db.session.rollback()
            return render_template(template, form=None, problem=str(exc)), 404
        else:
            db.session.commit()
            if current_user.is_authenticated and current_user.id != user.id:
                sessions.end()
                logout_user()
                session.clear()
            flash(
                done_message.format(
                    client_id=user.organization.display_client_id, username=user.username
                ),
                "success",
            )
            return redirect(url_for("auth.login"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, user=user, org=user.organization), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from the emailed link (single use, 1 hour); every session of
    the account ends."""
    return _link_page(
        TokenPurpose.PASSWORD_RESET,
        token,
        "auth/reset_password.html",
        "Your password is changed. Sign in with Client ID {client_id}, username {username} "
        "and your new password.",
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """A new user chooses their own password from the invitation link (single use, 7 days)."""
    return _link_page(
        TokenPurpose.INVITATION,
        token,
        "auth/invitation.html",
        "Welcome! Your password is set. Sign in with Client ID {client_id}, username "
        "{username} and your new password.",
    )


@bp.route("/unlock/<token>", methods=["GET", "POST"])
def unlock(token: str):
    """From the emailed unlock link: this browser may sign in to the account again at once,
    whatever others keep guessing. A button (POST), so that mail scanners that open links do
    not use it up."""
    checked = one_time_links.check(TokenPurpose.UNLOCK, token)
    if checked.token is None:
        return render_template("auth/unlock.html", problem=checked.problem), 404
    if request.method == "GET":
        return render_template("auth/unlock.html", problem=None)
    try:
        user = sign_in.unlock(token)
    except accounts.AccountError as exc:
        db.session.rollback()
        return render_template("auth/unlock.html", problem=str(exc)), 404
    db.session.commit()
    flash(
        f"Sign-in is unlocked on this browser. Sign in with Client ID "
        f"{user.organization.display_client_id} and username {user.username}.",
        "success",
    )
    response = redirect(url_for("auth.login"), code=303)
    return devices.trust(response, sign_in.user_subject(user.id))
