"""The signed-in user's own account: change password, turn two-factor authentication on or
off, make new recovery codes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.account.forms import ChangePasswordForm, ConfirmPasswordForm, EnableTwoFactorForm
from webapp.auth import sessions
from webapp.extensions import db
from webapp.services import accounts, two_factor
from webapp.services.passwords import verify_password

bp = Blueprint("account", __name__, url_prefix="/account")

SETUP_SECRET_KEY = "two_factor_setup_secret"  # noqa: S105 - a session key name


def _page(status: int = 200, **forms):
    user = current_user
    context = {
        "password_form": forms.get("password_form") or ChangePasswordForm(formdata=None),
        "disable_form": forms.get("disable_form")
        or ConfirmPasswordForm(formdata=None, prefix="disable"),
        "codes_form": forms.get("codes_form") or ConfirmPasswordForm(formdata=None, prefix="codes"),
        "two_factor_required": two_factor.required_for(user),
        "codes_left": two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0,
    }
    return render_template("account/index.html", **context), status


@bp.get("")
def index():
    """Your account: who you are, your password, two-factor authentication."""
    return _page()


@bp.post("/password")
def change_password():
    """Change your own password; your other browsers are signed out."""
    form = ChangePasswordForm()
    if not form.validate():
        return _page(400, password_form=form)
    try:
        accounts.change_own_password(
            current_user,
            form.current_password.data,
            form.password.data,
            sessions.current_token_hash(),
        )
    except accounts.PasswordProblem as exc:
        db.session.rollback()
        form.password.errors = [*form.password.errors, str(exc)]
        return _page(400, password_form=form)
    except accounts.AccountError as exc:
        db.session.rollback()
        form.current_password.errors = [*form.current_password.errors, str(exc)]
        return _page(400, password_form=form)
    db.session.commit()
    flash("Your password is changed. Your other browsers were signed out.", "success")
    return redirect(url_for("account.index"), 303)


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Set up two-factor: scan the QR code (or type the key), confirm with a code, keep the
    recovery codes."""
    user = current_user
    if user.two_factor_enabled:
        flash("Two-factor authentication is already on.", "info")
        return redirect(url_for("account.index"))
    secret = session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[SETUP_SECRET_KEY] = two_factor.new_secret()
    form = EnableTwoFactorForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            codes = two_factor.enable(user, secret, form.code.data)
            if codes is not None:
                db.session.commit()
                session.pop(SETUP_SECRET_KEY, None)
                return render_template("account/recovery_codes.html", codes=codes, new=True)
            form.code.errors = [
                *form.code.errors,
                "That code is not correct. Check that your phone's clock is right and enter "
                "the code the app shows now.",
            ]
    uri = two_factor.provisioning_uri(user, secret)
    return render_template(
        "account/two_factor_setup.html",
        form=form,
        secret=secret,
        qr_code=two_factor.qr_code_data_uri(uri),
        required=two_factor.required_for(user),
    ), status


@bp.post("/two-factor/recovery-codes")
def recovery_codes():
    """New recovery codes (the old ones stop working), after confirming the password."""
    form = ConfirmPasswordForm(prefix="codes")
    if not current_user.two_factor_enabled:
        return redirect(url_for("account.two_factor_setup"), 303)
    if not form.validate() or not verify_password(current_user.password_hash, form.password.data):
        if form.password.data:
            form.password.errors = [*form.password.errors, "The password is not correct."]
        return _page(400, codes_form=form)
    codes = two_factor.regenerate_recovery_codes(current_user)
    db.session.commit()
    return render_template("account/recovery_codes.html", codes=codes, new=False)


@bp.post("/two-factor/disable")
def two_factor_disable():
    """Turn two-factor off, after confirming the password (not where it is required)."""
    form = ConfirmPasswordForm(prefix="disable")
    if two_factor.required_for(current_user):
        flash(
            "Your organization requires two-factor authentication for administrators, so it "
            "cannot be turned off. You can make new recovery codes instead.",
            "error",
        )
        return _page(403)
    if not form.validate() or not verify_password(current_user.password_hash, form.password.data):
        if form.password.data:
            form.password.errors = [*form.password.errors, "The password is not correct."]
        return _page(400, disable_form=form)
    two_factor.disable(current_user)
    db.session.commit()
    flash("Two-factor authentication is off. You sign in with your password only.", "success")
    return redirect(url_for("account.index"), 303)
