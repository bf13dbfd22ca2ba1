"""Forgetting what no longer serves: used or expired emailed links, and ended sessions.

Meant for the reaper's periodic tick (it runs on every worker, under a lock): one call,
a few set-based DELETEs, committed by the caller."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_

from webapp.extensions import db
from webapp.models import OneTimeToken, StoreCustomerSession, UserSession, utcnow
from webapp.services import customer_accounts

# Kept a day past their end, so support can still see what happened to a link or session.
GRACE = timedelta(days=1)


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete links past their expiry and sessions ended more than a day ago; returns how
    many rows of each kind went. The caller commits."""
    now = now or utcnow()
    cutoff = now - GRACE
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    links = db.session.execute(
        delete(OneTimeToken).where(
            or_(OneTimeToken.expires_at < cutoff, OneTimeToken.used_at < cutoff)
        )
    ).rowcount
    staff = db.session.execute(
        delete(UserSession).where(
            or_(
                UserSession.revoked_at < cutoff,
                UserSession.last_seen_at < cutoff - idle,
                UserSession.created_at < cutoff - absolute,
            )
        )
    ).rowcount
    customers = db.session.execute(
        delete(StoreCustomerSession).where(
            or_(
                StoreCustomerSession.revoked_at < cutoff,
                StoreCustomerSession.last_seen_at < cutoff - customer_accounts.IDLE,
                StoreCustomerSession.created_at < cutoff - customer_accounts.ABSOLUTE,
            )
        )
    ).rowcount
    return {"links": links, "staff_sessions": staff, "customer_sessions": customers}
