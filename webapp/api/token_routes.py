"""Settings › API tokens: the distributor's administrators create and revoke API tokens.

Behind sign-in like every page (only the /api/v1 blueprint is public); a new token is shown
in the response to its creation and never again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.api import tokens
from webapp.extensions import db
from webapp.models import ApiToken, User
from webapp.scoping import org_id, require_distributor

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        description="What uses it, for example “Provisioning scripts”.",
        validators=[
            DataRequired("Give the token a name."),
            Length(max=80, message="Use at most 80 characters."),
        ],
    )


@bp.before_request
def administrators_only():
    require_distributor()  # tenants have no API: the page looks absent to them
    if not current_user.is_admin:
        abort(404)  # like every admin page (/admin/…): absent to staff, not forbidden


def _page(form: TokenForm, new_token: str | None = None, created: ApiToken | None = None):
    rows = db.session.execute(
        select(ApiToken, User.username)
        .outerjoin(User, User.id == ApiToken.created_by_id)
        .where(ApiToken.organization_id == org_id())
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
    ).all()
    status = 201 if new_token else (400 if form.errors else 200)
    response = render_template(
        "api/tokens.html", rows=rows, form=form, new_token=new_token, created=created
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.get("")
def index():
    """The organization's tokens and the form to create one."""
    return _page(TokenForm(formdata=None))


@bp.post("")
def create():
    """Create a token and show it once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form)
    row, raw = tokens.create_token(org_id(), current_user, form.name.data)
    return _page(TokenForm(formdata=None), new_token=raw, created=row)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    """Revoke a token: requests with it are refused from now on."""
    row = ApiToken.get_in_org_or_404(token_id, org_id())
    if tokens.revoke_token(row, current_user):
        flash(f"The token {row.name} was revoked; requests with it are now refused.", "success")
    else:
        flash(f"The token {row.name} already was revoked.", "info")
    return redirect(url_for("api_tokens.index"), 303)
