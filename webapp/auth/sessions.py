"""Server-side sign-in sessions: a row per sign-in, so that sign-out, idle and absolute
timeouts, and disabling a user are enforced by the server, not only by a cookie the browser
may keep."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, session
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import User, UserSession, utcnow

SESSION_KEY = "sid"
TOUCH_EVERY = timedelta(seconds=60)  # write last_seen_at at most once a minute
DISABLED_MESSAGE = "Your account is disabled. Ask an administrator of your organization."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> None:
    """Record a new session for this sign-in; its id goes into the (renewed) cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, last_seen_at=now))
    db.session.commit()
    session[SESSION_KEY] = token


def current_token_hash() -> str | None:
    """The hash of this browser's session id (to keep it when the others are ended)."""
    token = session.get(SESSION_KEY)
    return _hash(token) if token else None


def end() -> None:
    """Revoke the current session on the server (sign-out)."""
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.commit()


def still_valid(user: User) -> str | None:
    """None if the session may go on; otherwise why it ended (for the sign-in page)."""
    if not user.active:
        return DISABLED_MESSAGE
    from webapp.services.tenant_lifecycle import closed_message

    if (closed := closed_message(user.organization)) is not None:
        return closed
    token = session.get(SESSION_KEY)
    row = (
        db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
        if token
        else None
    )
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return "Please sign in again."
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - row.last_seen_at > idle:
        return "You were signed out after a period of inactivity. Please sign in again."
    if now - row.created_at > absolute:
        return "Your session reached its maximum length. Please sign in again."
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return None
