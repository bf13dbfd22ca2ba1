"""Forgetting what no longer serves: used or expired emailed links, ended sessions, read
notifications, emails sent or given up on, expired API idempotency records.

Meant for the reaper's periodic tick (it runs on every worker, under a lock), one function
per kind so that each fails alone. Each deletes in bounded batches, committing after every
batch, so a big purge never holds the database's write lock for long. How long each kind is
kept is a setting (webapp/config.py, the README's settings table)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, or_, select

from webapp.extensions import db
from webapp.models import (
    IdempotencyRecord,
    Notification,
    OneTimeToken,
    OutboxEmail,
    StoreCustomerSession,
    UserSession,
    utcnow,
)
from webapp.services import customer_accounts

# Emails the outbox is done with: sent, written to the log (no MAIL_SERVER), or given up on
# after their last attempt. Pending ones are never purged.
FINISHED_EMAIL_STATUSES = ("Sent", "Logged", "Failed")


def delete_in_batches(model, condition: ColumnElement[bool], batch: int | None = None) -> int:
    """Delete the rows matching the condition, a batch of ids per transaction (committed);
    returns how many went."""
    batch = batch or current_app.config.get("PURGE_BATCH_SIZE") or 1000
    total = 0
    while True:
        ids = db.session.scalars(
            select(model.id).where(condition).order_by(model.id).limit(batch)
        ).all()
        if not ids:
            break
        total += db.session.execute(delete(model).where(model.id.in_(ids))).rowcount
        db.session.commit()
        if len(ids) < batch:
            break
    return total


def _days(setting: str) -> timedelta:
    return timedelta(days=current_app.config[setting])


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete links past their expiry and sessions ended more than SESSION_RETENTION_DAYS
    ago; returns how many rows of each kind went."""
    now = now or utcnow()
    cutoff = now - _days("SESSION_RETENTION_DAYS")
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    links = delete_in_batches(
        OneTimeToken, or_(OneTimeToken.expires_at < cutoff, OneTimeToken.used_at < cutoff)
    )
    staff = delete_in_batches(
        UserSession,
        or_(
            UserSession.revoked_at < cutoff,
            UserSession.last_seen_at < cutoff - idle,
            UserSession.created_at < cutoff - absolute,
        ),
    )
    customers = delete_in_batches(
        StoreCustomerSession,
        or_(
            StoreCustomerSession.revoked_at < cutoff,
            StoreCustomerSession.last_seen_at < cutoff - customer_accounts.IDLE,
            StoreCustomerSession.created_at < cutoff - customer_accounts.ABSOLUTE,
        ),
    )
    return {"links": links, "staff_sessions": staff, "customer_sessions": customers}


def purge_notifications(now: datetime | None = None) -> int:
    """Notifications read more than NOTIFICATION_RETENTION_DAYS ago; unread ones stay."""
    cutoff = (now or utcnow()) - _days("NOTIFICATION_RETENTION_DAYS")
    return delete_in_batches(Notification, Notification.read_at < cutoff)


def purge_outbox(now: datetime | None = None) -> int:
    """Emails sent, logged or abandoned, written more than OUTBOX_RETENTION_DAYS ago; a
    Pending one stays whatever its age (the reaper queues it again)."""
    cutoff = (now or utcnow()) - _days("OUTBOX_RETENTION_DAYS")
    return delete_in_batches(
        OutboxEmail,
        and_(OutboxEmail.status.in_(FINISHED_EMAIL_STATUSES), OutboxEmail.created_at < cutoff),
    )


def purge_idempotency(now: datetime | None = None) -> int:
    """API idempotency records older than IDEMPOTENCY_RETENTION_HOURS (past it they no
    longer answer: webapp.api.idempotency reads the same setting)."""
    hours = timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    return delete_in_batches(
        IdempotencyRecord, IdempotencyRecord.created_at < (now or utcnow()) - hours
    )
