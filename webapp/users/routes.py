"""The organization's users: the distributor and Premium tenants may add users (with a
password or an emailed invitation); a Basic tenant has its one administrator. Administrators
edit users, disable and enable them (a disabled user is signed out at once), end their
sessions, reset their passwords and turn their two-factor off. The distributor's security
settings live here too."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.listing import Listing, Sorts, csv_response, paginate, stream, wants_csv
from webapp.models import Edition, Organization, OutboxEmail, Role, User
from webapp.scoping import current_organization, org_id, require_admin, require_distributor
from webapp.services import accounts, audit, mail
from webapp.services.password_rules import password_problem
from webapp.users.forms import EditUserForm, SecuritySettingsForm, UserForm

bp = Blueprint("users", __name__)

BASIC_MESSAGE = (
    "The Basic edition includes one administrator. Premium allows more users: ask your "
    "distributor to upgrade your edition."
)


def may_add_users(org: Organization) -> bool:
    """The distributor and Premium tenants may add users; Basic tenants may not."""
    return org.is_root or org.edition == Edition.PREMIUM


USER_SORTS = Sorts(
    {
        "username": ("Username", (User.username,)),
        "email": ("Email", (User.email,)),
        "role": ("Role", (User.role,)),
        "status": ("Status", (User.active,)),
    },
    tie=User.id,
)


def _users_stmt(listing: Listing):
    stmt = User.in_org(org_id())
    if listing.q:
        like = f"%{listing.q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.email.ilike(like)))
    return stmt


def _page(form: UserForm, status: int = 200, refused: str | None = None):
    org = current_organization()
    listing = Listing.from_request(USER_SORTS)
    pagination = paginate(_users_stmt(listing), listing, USER_SORTS)
    return render_template(
        "users/list.html",
        users=pagination.items,
        pagination=pagination,
        listing=listing,
        form=form,
        org=org,
        may_add=may_add_users(org),
        is_admin=current_user.is_admin,
        basic_message=BASIC_MESSAGE,
        refused=refused,
    ), status


@bp.get("/users")
def index():
    """The organization's users (a page at a time, sortable, searchable by username or email,
    exportable to CSV), and the form to add one where the edition allows it."""
    if wants_csv():
        listing = Listing.from_request(USER_SORTS)
        stmt = _users_stmt(listing).order_by(*USER_SORTS.order_by(listing.sort, listing.descending))
        return csv_response(
            "users.csv",
            ["Username", "Email", "Role", "Status", "Two-factor"],
            stream(stmt),
            lambda u: [
                u.username,
                u.email,
                "Administrator" if u.is_admin else "Staff",
                "Active" if u.active else "Disabled",
                "On" if u.two_factor_enabled else "Off",
            ],
        )
    return _page(UserForm(formdata=None))


def _username_taken_message(username: str) -> str:
    return (
        f"There already is a user named {username} in your organization. Choose another username."
    )


@bp.post("/users")
def add():
    """Add a user: username unique in the organization; an invitation by email, or a
    password (hashed with argon2id) given here."""
    org = current_organization()
    form = UserForm()
    if not may_add_users(org):
        return _page(form, 403, BASIC_MESSAGE)
    if not current_user.is_admin:
        return _page(form, 403, "Only an administrator can add users.")
    if not form.validate_on_submit():
        return _page(form, 400)
    username = form.username.data.strip()
    password = None if form.invite.data else form.password.data
    if password is not None and (problem := password_problem(password, username)):
        form.password.errors = [*form.password.errors, problem]
        return _page(form, 400)
    if accounts.username_taken(org_id(), username):
        form.username.errors = [*form.username.errors, _username_taken_message(username)]
        return _page(form, 400)
    new = accounts.NewUser(
        username=username, email=form.email.data.strip(), role=form.role.data, password=password
    )
    try:
        user, email = accounts.add_user(current_user, new)
        db.session.commit()
    except IntegrityError:  # the same username saved at the same moment elsewhere
        db.session.rollback()
        form.username.errors = [f"There already is a user named {username}."]
        return _page(form, 400)
    mail.deliver([email])
    if email is not None:
        flash(
            f"{username} is invited: we emailed {user.email} a link to choose a password "
            "(valid 7 days).",
            "success",
        )
    else:
        flash(f"{username} can now sign in with your Client ID and their password.", "success")
    return redirect(url_for("users.index"), 303)


def _user_or_404(user_id: int) -> User:
    user = User.get_in_org_or_404(user_id, org_id())
    require_admin()
    return user


def _edit_page(user: User, form: EditUserForm | None = None, status: int = 200):
    return render_template(
        "users/edit.html",
        user=user,
        form=form or EditUserForm(formdata=None, obj=user),
        sessions=accounts.active_session_count([user.id]).get(user.id, 0),
        is_self=user.id == current_user.id,
    ), status


@bp.get("/users/<int:user_id>")
def edit(user_id: int):
    """One user: their details, role and status, and what an administrator can do."""
    return _edit_page(_user_or_404(user_id))


@bp.post("/users/<int:user_id>")
def update(user_id: int):
    """Save a user's username, email and role."""
    user = _user_or_404(user_id)
    form = EditUserForm()
    if not form.validate_on_submit():
        return _edit_page(user, form, 400)
    username = form.username.data.strip()
    if accounts.username_taken(org_id(), username, except_id=user.id):
        form.username.errors = [*form.username.errors, _username_taken_message(username)]
        return _edit_page(user, form, 400)
    try:
        changed = accounts.update_user(
            current_user, user, username=username, email=form.email.data, role=form.role.data
        )
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        form.role.errors = [*form.role.errors, str(exc)]
        return _edit_page(db.session.get(User, user_id), form, 400)
    except IntegrityError:
        db.session.rollback()
        form.username.errors = [_username_taken_message(username)]
        return _edit_page(db.session.get(User, user_id), form, 400)
    flash(f"{user.username} is saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("users.index"), 303)


def _action(user_id: int, do, done):
    """Run one administrator action on a user; a refusal is shown on the user's page."""
    user = _user_or_404(user_id)
    try:
        result = do(user)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _edit_page(db.session.get(User, user_id), status=400)
    if isinstance(result, OutboxEmail):
        mail.deliver([result])
    flash(done(user, result), "success")
    return redirect(url_for("users.edit", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/disable")
def disable(user_id: int):
    """Disable a user: they cannot sign in, and every session of theirs ends now."""
    return _action(
        user_id,
        lambda user: accounts.set_active(current_user, user, False),
        lambda user, _r: f"{user.username} is disabled and was signed out everywhere.",
    )


@bp.post("/users/<int:user_id>/enable")
def enable(user_id: int):
    """Enable a disabled user again."""
    return _action(
        user_id,
        lambda user: accounts.set_active(current_user, user, True),
        lambda user, _r: f"{user.username} is enabled and can sign in again.",
    )


@bp.post("/users/<int:user_id>/sessions/end")
def end_sessions(user_id: int):
    """Sign a user out of every browser."""
    return _action(
        user_id,
        lambda user: accounts.end_sessions_by_admin(current_user, user),
        lambda user, n: f"{n} session{'s' if n != 1 else ''} of {user.username} ended.",
    )


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int):
    """The user's password stops working; they get an emailed link to choose a new one."""
    return _action(
        user_id,
        lambda user: accounts.reset_password_by_admin(current_user, user),
        lambda user, _r: (
            f"{user.username}'s password no longer works; we emailed "
            f"{user.email} a link to choose a new one (valid 1 hour)."
        ),
    )


@bp.post("/users/<int:user_id>/invitation")
def resend_invitation(user_id: int):
    """Email a user without a password a new link to choose one (the earlier one stops
    working): an invitation, or a reset link for someone who signed in before."""
    return _action(
        user_id,
        lambda user: accounts.resend_password_link(current_user, user),
        lambda user, _r: f"A new link to choose a password was emailed to {user.email}.",
    )


@bp.post("/users/<int:user_id>/two-factor/reset")
def reset_two_factor(user_id: int):
    """Turn off a user's two-factor (lost phone and recovery codes); they are signed out."""
    return _action(
        user_id,
        lambda user: accounts.turn_off_two_factor_by_admin(current_user, user),
        lambda user, _r: (
            f"Two-factor authentication of {user.username} is off; they sign in "
            "with their password and can set it up again."
        ),
    )


# --- security settings (the distributor) -------------------------------------------------------


@bp.route("/settings/security", methods=["GET", "POST"])
def security():
    """The distributor's security settings: require two-factor for administrators."""
    org = require_distributor()
    require_admin()
    form = SecuritySettingsForm(obj=org)
    if form.validate_on_submit():
        required = bool(form.require_admin_two_factor.data)
        if required != org.require_admin_two_factor:
            audit.record(
                organization_id=org.id,
                actor=current_user,
                action="organization.security",
                entity_type="organization",
                entity_id=org.id,
                summary="Two-factor authentication "
                + ("required" if required else "no longer required")
                + " for administrators",
                before={"require_admin_two_factor": org.require_admin_two_factor},
                after={"require_admin_two_factor": required},
            )
            org.require_admin_two_factor = required
            db.session.commit()
            flash(
                "Administrators must now use two-factor authentication; those without it are "
                "asked to set it up at their next page view."
                if required
                else "Two-factor authentication is now optional for administrators.",
                "success",
            )
        else:
            flash("Nothing changed.", "info")
        return redirect(url_for("users.security"), 303)
    admins_without = db.session.scalars(
        User.in_org(org.id)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.totp_enabled_at.is_(None))
        .order_by(User.username)
    ).all()
    status = 400 if form.errors else 200
    return render_template(
        "users/security.html", form=form, org=org, admins_without=admins_without
    ), status
