"""Staff and tenant users' accounts: add or invite, edit, disable, end sessions, reset and
change passwords, and the tenant administrator's welcome email.

Every function adds its rows (and any email) to the current transaction and leaves the
commit to the caller, which then hands the returned emails to `mail.deliver`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from webapp.extensions import db
from webapp.models import (
    Organization,
    OrgStatus,
    OutboxEmail,
    RecoveryCode,
    Role,
    TenantReseller,
    TokenPurpose,
    User,
    UserSession,
    utcnow,
)
from webapp.services import audit, mail, one_time_links, throttle
from webapp.services.client_ids import normalise_client_id
from webapp.services.password_rules import password_problem
from webapp.services.passwords import hash_password, verify_password

PRODUCT_NAME = "Tenant Reseller BSS"


class AccountError(ValueError):
    """A change that is refused; the message says why and what to do instead."""


# --- sessions ---------------------------------------------------------------------------------


def end_sessions(user_id: int, keep_token_hash: str | None = None) -> int:
    """Revoke every signed-in session of this user (but `keep_token_hash`, the current one
    when a user changes their own password); their next request goes to sign-in."""
    stmt = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_token_hash:
        stmt = stmt.where(UserSession.token_hash != keep_token_hash)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


def active_session_count(user_ids: list[int]) -> dict[int, int]:
    """Sessions not revoked, per user (expired ones included: the server ends those itself)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(UserSession.user_id, func.count())
        .where(UserSession.user_id.in_(user_ids), UserSession.revoked_at.is_(None))
        .group_by(UserSession.user_id)
    ).all()
    return dict(rows)


# --- links sent by email ----------------------------------------------------------------------


def _client_id_line(org: Organization) -> str:
    return f"Client ID: {org.display_client_id}"


def sign_in_key(user: User) -> throttle.Key:
    """The throttle key of this user's account (Client ID + username), as sign-in counts it."""
    client = normalise_client_id(user.organization.client_id)
    return throttle.Key(throttle.STAFF_ACCOUNT, f"{client}:{user.username.strip().lower()}")


def invite_user(user: User, invited_by: User | None = None) -> OutboxEmail | None:
    """Email this user a link to choose their own password (valid 7 days); an earlier
    invitation stops working. None when the user has no email address."""
    org = user.organization
    raw = one_time_links.issue(TokenPurpose.INVITATION, user=user)
    link = mail.absolute_url("auth.accept_invitation", token=raw)
    who = f"{invited_by.username} invited you" if invited_by else "You are invited"
    body = "\n".join(
        [
            f"Hello {user.username},",
            "",
            f"{who} to {org.name}'s {PRODUCT_NAME}.",
            "Choose your password here (the link works once, for 7 days):",
            link,
            "",
            "Then sign in with:",
            _client_id_line(org),
            f"Username: {user.username}",
            f"Sign-in page: {mail.absolute_url('auth.login')}",
            "",
            "If you did not expect this email, you can ignore it.",
        ]
    )
    return mail.compose(org.id, user.email, f"Your invitation to {org.name}", body)


def welcome_tenant_admin(tenant: TenantReseller) -> OutboxEmail | None:
    """The welcome email to a new tenant's administrator: Client ID, username and the sign-in
    link, plus the link to choose a password when the administrator was invited. Written at
    most once per tenant (safe on a re-run of the step that calls it); None when the tenant
    or its administrator does not exist yet, or the welcome was already written."""
    if tenant.admin_welcomed_at is not None or tenant.tenant_organization_id is None:
        return None
    org = db.session.get(Organization, tenant.tenant_organization_id)
    admin = db.session.scalar(
        select(User).where(User.organization_id == org.id, User.username == tenant.admin_username)
    )
    if admin is None:
        return None
    lines = [
        f"Hello {admin.username},",
        "",
        f"Your {PRODUCT_NAME} for {org.name} is ready.",
        "",
        _client_id_line(org),
        f"Username: {admin.username}",
        f"Sign-in page: {mail.absolute_url('auth.login')}",
        "",
    ]
    if not admin.has_password:
        raw = one_time_links.issue(TokenPurpose.INVITATION, user=admin)
        lines += [
            "Choose your password here first (the link works once, for 7 days):",
            mail.absolute_url("auth.accept_invitation", token=raw),
            "If the link has expired, use “Forgot your password?” on the sign-in page.",
        ]
    else:
        lines.append("Sign in with the password that was chosen for you when your BSS was set up.")
    lines += [
        "",
        "Your next steps are on your dashboard: brand your storefront, set your prices and add "
        "your first customer.",
    ]
    tenant.admin_welcomed_at = utcnow()
    return mail.compose(
        org.id, admin.email or tenant.admin_email, f"Welcome to {PRODUCT_NAME}", "\n".join(lines)
    )


def request_password_reset(client_id: str, username_or_email: str) -> list[OutboxEmail]:
    """Email a reset link to the active user(s) of this Client ID whose username or email
    address this is. The caller says the same thing whether or not anyone was found, and the
    token is made and hashed in both cases so the answer costs about the same."""
    raw_and_hash = one_time_links.new_raw_token()
    identifier = (username_or_email or "").strip()
    users = []
    if identifier:
        users = db.session.scalars(
            select(User)
            .join(Organization, Organization.id == User.organization_id)
            .where(
                Organization.client_id == normalise_client_id(client_id or ""),
                Organization.status == OrgStatus.ACTIVE,
                User.active.is_(True),
                or_(
                    func.lower(User.username) == identifier.lower(),
                    func.lower(User.email) == identifier.lower(),
                ),
            )
            .order_by(User.id)
            .limit(5)
        ).all()
    emails = []
    for user in users:
        if not user.email or not throttle.claim_once(f"reset-email:user:{user.id}", 60):
            continue  # at most one link a minute: nobody can flood a user's inbox
        raw = one_time_links.issue(
            TokenPurpose.PASSWORD_RESET, user=user, raw_and_hash=raw_and_hash
        )
        raw_and_hash = one_time_links.new_raw_token()  # one token per user
        emails.append(_reset_email(user, raw))
    return [e for e in emails if e is not None]


def _reset_email(user: User, raw: str, by_admin: User | None = None) -> OutboxEmail | None:
    org = user.organization
    reason = (
        f"{by_admin.username}, an administrator of {org.name}, reset your password."
        if by_admin
        else "Somebody (we hope you) asked to reset your password."
    )
    body = "\n".join(
        [
            f"Hello {user.username},",
            "",
            reason,
            "Choose a new password here (the link works once, for 1 hour):",
            mail.absolute_url("auth.reset_password", token=raw),
            "",
            _client_id_line(org),
            f"Username: {user.username}",
            "",
            "If you did not ask for this, you can ignore this email: your password stays the same."
            if not by_admin
            else "Your previous password no longer works.",
        ]
    )
    return mail.compose(org.id, user.email, f"Reset your {PRODUCT_NAME} password", body)


def unlock_email(user: User) -> OutboxEmail | None:
    """After repeated failed sign-ins: a link with which the account's owner signs in again
    at once from their browser, whatever strangers keep guessing."""
    if not user.email:
        return None
    raw = one_time_links.issue(TokenPurpose.UNLOCK, user=user)
    org = user.organization
    body = "\n".join(
        [
            f"Hello {user.username},",
            "",
            "There were several failed attempts to sign in to your account, so sign-in now "
            "waits a little longer after each failure.",
            "If that was you, this link lets your browser sign in again straight away "
            "(it works once, for 1 hour):",
            mail.absolute_url("auth.unlock", token=raw),
            "",
            "If it was not you, your password kept them out. You may want to change it, and to "
            "turn on two-factor authentication on your account page.",
            "",
            _client_id_line(org),
            f"Username: {user.username}",
        ]
    )
    return mail.compose(org.id, user.email, "Failed sign-in attempts on your account", body)


def set_password_from_link(purpose: TokenPurpose, raw: str, password: str) -> User:
    """Set a new password from a reset or invitation link: the link is used up, every other
    session of the user ends, and the account's sign-in waits are cleared."""
    checked = one_time_links.check(purpose, raw)
    if checked.token is None or checked.token.user_id is None:
        raise AccountError(checked.problem or one_time_links.NOT_VALID)
    user = db.session.get(User, checked.token.user_id)
    if user is None or not user.active:
        raise AccountError(one_time_links.NOT_VALID)
    problem = password_problem(password, user.username)
    if problem:
        raise PasswordProblem(problem)
    if not one_time_links.consume(checked.token):
        raise AccountError(one_time_links.NOT_VALID)
    user.password_hash = hash_password(password)
    end_sessions(user.id)
    audit.record(
        organization_id=user.organization_id,
        actor=user,
        action="user.invitation_accept" if purpose == TokenPurpose.INVITATION else "user.reset",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} chose a password from an emailed link",
    )
    throttle.clear([sign_in_key(user)])
    return user


class PasswordProblem(AccountError):
    """The new password is not acceptable (shown next to the password field)."""


def change_own_password(user: User, current: str, new: str, keep_token_hash: str | None) -> None:
    """Change the signed-in user's password after checking the current one; the user's other
    browsers are signed out."""
    if not verify_password(user.password_hash, current or ""):
        raise AccountError("The current password is not correct.")
    problem = password_problem(new, user.username)
    if problem:
        raise PasswordProblem(problem)
    user.password_hash = hash_password(new)
    end_sessions(user.id, keep_token_hash=keep_token_hash)
    audit.record(
        organization_id=user.organization_id,
        actor=user,
        action="user.password_change",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} changed their password",
    )


# --- administrators managing users -------------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str
    role: str
    password: str | None  # None: send an invitation


def username_taken(organization_id: int, username: str, except_id: int | None = None) -> bool:
    stmt = select(User.id).where(
        User.organization_id == organization_id,
        func.lower(User.username) == username.strip().lower(),
    )
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return db.session.scalar(stmt) is not None


def add_user(actor: User, new: NewUser) -> tuple[User, OutboxEmail | None]:
    """A new user of the actor's organization, with the given password or an invitation."""
    if new.role not in {r.value for r in Role}:
        raise AccountError("Choose Administrator or Staff.")
    user = User(
        organization_id=actor.organization_id,
        username=new.username.strip(),
        email=new.email.strip(),
        password_hash=hash_password(new.password) if new.password else "",
        role=new.role,
    )
    db.session.add(user)
    db.session.flush()
    email = invite_user(user, invited_by=actor) if new.password is None else None
    audit.record(
        organization_id=actor.organization_id,
        actor=actor,
        action="user.invite" if email is not None else "user.create",
        entity_type="user",
        entity_id=user.id,
        summary=f"User {user.username} {'invited' if email is not None else 'added'}",
        after={"username": user.username, "email": user.email, "role": user.role},
    )
    return user, email


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.organization_id == user.organization_id,
            User.role == Role.ADMIN,
            User.active.is_(True),
            User.id != user.id,
        )
    )


LAST_ADMIN = (
    "{name} is the only active administrator of your organization. Make another user an "
    "administrator first."
)


def update_user(actor: User, user: User, *, username: str, email: str, role: str) -> bool:
    """Change a user's username, email and role; True if anything changed."""
    if role not in {r.value for r in Role}:
        raise AccountError("Choose Administrator or Staff.")
    if role != user.role and user.id == actor.id:
        raise AccountError("You cannot change your own role; ask another administrator.")
    demoting = user.role == Role.ADMIN and role != Role.ADMIN and user.active
    if demoting and _other_active_admins(user) == 0:
        raise AccountError(LAST_ADMIN.format(name=user.username))
    before = {"username": user.username, "email": user.email, "role": user.role}
    after = {"username": username.strip(), "email": email.strip(), "role": role}
    if before == after:
        return False
    user.username, user.email, user.role = after["username"], after["email"], after["role"]
    if before["role"] != role:
        end_sessions(user.id)  # a demoted administrator's open pages must not keep their rights
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        summary=f"User {user.username} changed",
        before=before,
        after=after,
    )
    return True


def set_active(actor: User, user: User, active: bool) -> bool:
    """Disable (every session ends at once) or enable a user; True if it changed."""
    if user.active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise AccountError("You cannot disable yourself; ask another administrator.")
        if user.role == Role.ADMIN and _other_active_admins(user) == 0:
            raise AccountError(LAST_ADMIN.format(name=user.username))
    user.active = active
    ended = end_sessions(user.id) if not active else 0
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.enable" if active else "user.disable",
        entity_type="user",
        entity_id=user.id,
        summary=f"User {user.username} {'enabled' if active else 'disabled'}"
        + (f"; {ended} session(s) ended" if ended else ""),
        before={"active": not active},
        after={"active": active},
    )
    return True


def end_sessions_by_admin(actor: User, user: User) -> int:
    """Sign a user out everywhere (the actor's own current session excepted if it is theirs)."""
    ended = end_sessions(user.id)
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.sessions_end",
        entity_type="user",
        entity_id=user.id,
        summary=f"{ended} session(s) of {user.username} ended",
    )
    return ended


def reset_password_by_admin(actor: User, user: User) -> OutboxEmail | None:
    """The old password stops working and the user's sessions end; they choose a new password
    from the emailed link. Refused when the user has no email address to send it to."""
    if not user.email:
        raise AccountError(
            f"{user.username} has no email address: add one first, so the reset link can be sent."
        )
    if not user.active:
        raise AccountError(f"{user.username} is disabled: enable them first.")
    user.password_hash = ""
    end_sessions(user.id)
    raw = one_time_links.issue(TokenPurpose.PASSWORD_RESET, user=user)
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.password_reset",
        entity_type="user",
        entity_id=user.id,
        summary=f"Password of {user.username} reset; a link was emailed",
    )
    return _reset_email(user, raw, by_admin=actor)


def has_signed_in_before(user: User) -> bool:
    return (
        db.session.scalar(select(UserSession.id).where(UserSession.user_id == user.id).limit(1))
        is not None
    )


def resend_password_link(actor: User, user: User) -> OutboxEmail | None:
    """A user without a password (invited, or reset by an administrator) gets a new link to
    choose one; the earlier link stops working. Worded as an invitation for someone who never
    signed in, else as a reset."""
    if user.has_password:
        raise AccountError(f"{user.username} has already chosen a password.")
    if not user.email:
        raise AccountError(f"{user.username} has no email address: add one first.")
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.password_link",
        entity_type="user",
        entity_id=user.id,
        summary=f"A new link to choose a password was sent to {user.username}",
    )
    if has_signed_in_before(user):
        raw = one_time_links.issue(TokenPurpose.PASSWORD_RESET, user=user)
        return _reset_email(user, raw, by_admin=actor)
    return invite_user(user, invited_by=actor)


def turn_off_two_factor_by_admin(actor: User, user: User) -> None:
    """For a user who lost their authenticator and recovery codes."""
    clear_two_factor(user)
    end_sessions(user.id)
    audit.record(
        organization_id=user.organization_id,
        actor=actor,
        action="user.two_factor_reset",
        entity_type="user",
        entity_id=user.id,
        summary=f"Two-factor authentication of {user.username} turned off by an administrator",
    )


def clear_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
