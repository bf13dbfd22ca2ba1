"""Storefront customers' passwords: forgot password by an emailed, single-use, expiring
link, and change password on the account page."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from webapp.extensions import db
from webapp.models import TokenPurpose
from webapp.services import customer_accounts, mail, one_time_links
from webapp.services.accounts import AccountError, PasswordProblem
from webapp.storefront import bp
from webapp.storefront import customer_session as store_session
from webapp.storefront.password_forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    NewPasswordForm,
)
from webapp.storefront.shop import current_customer

# The same answer whether or not the address belongs to a customer of this store.
RESET_SENT = (
    "If {email} belongs to an account of this store, we have sent it a link to choose a new "
    "password. The link works once, for 1 hour. Check your inbox (and spam folder)."
)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by email; the page never says whether the address is known."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = customer_accounts.request_password_reset(g.storefront, form.email.data)
        db.session.commit()
        mail.deliver([email])
        flash(RESET_SENT.format(email=form.email.data.strip()), "info")
        return redirect(url_for("storefront.login"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("storefront/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from the emailed link; every session of the account ends."""
    checked = one_time_links.check(
        TokenPurpose.PASSWORD_RESET, token, organization_id=g.storefront.organization_id
    )
    if checked.token is None or checked.token.store_customer_id is None:
        return _link_problem(checked.problem or one_time_links.NOT_VALID)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            customer_accounts.reset_password(g.storefront, token, form.password.data)
        except PasswordProblem as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        except AccountError as exc:
            db.session.rollback()
            return _link_problem(str(exc))
        else:
            db.session.commit()
            flash("Your password is changed. Sign in with it now.", "success")
            return redirect(url_for("storefront.login"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("storefront/reset_password.html", form=form), status


def _link_problem(problem: str):
    return render_template("storefront/reset_password.html", form=None, problem=problem), 404


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """The signed-in customer changes their password; their other browsers are signed out."""
    customer = current_customer()
    if customer is None:
        return redirect(url_for("storefront.login"))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        keep = store_session.session_token(g.storefront.organization_id)
        try:
            customer_accounts.change_password(
                customer, form.current_password.data, form.password.data, keep
            )
        except PasswordProblem as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        except AccountError as exc:
            db.session.rollback()
            form.current_password.errors = [*form.current_password.errors, str(exc)]
        else:
            db.session.commit()
            flash("Your password is changed. Other browsers were signed out.", "success")
            return redirect(url_for("storefront.account"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("storefront/change_password.html", form=form), status
