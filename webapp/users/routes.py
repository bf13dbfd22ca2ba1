"""The organization's users: the distributor and Premium tenants may add users; a Basic
tenant has its one administrator."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Edition, Organization, Role, User
from webapp.scoping import current_organization, org_id
from webapp.services import audit
from webapp.services.passwords import hash_password
from webapp.users.forms import UserForm

bp = Blueprint("users", __name__)

BASIC_MESSAGE = (
    "The Basic edition includes one administrator. Premium allows more users: ask your "
    "distributor to upgrade your edition."
)


def may_add_users(org: Organization) -> bool:
    """The distributor and Premium tenants may add users; Basic tenants may not."""
    return org.is_root or org.edition == Edition.PREMIUM


def _page(form: UserForm, status: int = 200, refused: str | None = None):
    org = current_organization()
    users = db.session.scalars(User.in_org(org_id()).order_by(User.username)).all()
    return render_template(
        "users/list.html",
        users=users,
        form=form,
        org=org,
        may_add=may_add_users(org),
        is_admin=current_user.is_admin,
        basic_message=BASIC_MESSAGE,
        refused=refused,
    ), status


@bp.get("/users")
def index():
    """The organization's users, and the form to add one where the edition allows it."""
    return _page(UserForm(formdata=None))


@bp.post("/users")
def add():
    """Add a staff user: username unique in the organization, password hashed (argon2id)."""
    org = current_organization()
    form = UserForm()
    if not may_add_users(org):
        return _page(form, 403, BASIC_MESSAGE)
    if not current_user.is_admin:
        return _page(form, 403, "Only an administrator can add users.")
    if not form.validate_on_submit():
        return _page(form, 400)
    username = form.username.data.strip()
    taken = db.session.scalar(
        select(User.id).where(
            User.organization_id == org_id(), func.lower(User.username) == username.lower()
        )
    )
    if taken is not None:
        form.username.errors = [
            *form.username.errors,
            f"There already is a user named {username} in your organization. Choose another "
            "username.",
        ]
        return _page(form, 400)
    user = User(
        organization_id=org_id(),
        username=username,
        email=form.email.data.strip(),
        password_hash=hash_password(form.password.data),
        role=Role.STAFF,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same username saved at the same moment elsewhere
        db.session.rollback()
        form.username.errors = [f"There already is a user named {username}."]
        return _page(form, 400)
    audit.record(
        organization_id=org_id(),
        actor=current_user,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        summary=f"User {username} added",
        after={"username": username, "email": user.email, "role": user.role},
    )
    db.session.commit()
    flash(f"{username} can now sign in with your Client ID and their password.", "success")
    return redirect(url_for("users.index"), 303)
