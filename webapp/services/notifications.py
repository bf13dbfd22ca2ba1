"""Telling the staff member who started a process how it ended: in the app, and by email
through an outbox when MAIL_SERVER is configured."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import Notification, OutboxEmail, Process, User, utcnow


def notify_finished(process: Process, status: str, detail: str = "") -> OutboxEmail | None:
    """Add the notification (and outbox email) to the current transaction."""
    if process.created_by_id is None:
        return None
    user = db.session.get(User, process.created_by_id)
    if user is None:
        return None
    level = {"Completed": "success", "Failed": "error"}.get(status, "info")
    message = f"{process.name}: {status.lower()}." + (f" {detail}" if detail else "")
    db.session.add(
        Notification(
            organization_id=process.organization_id,
            user_id=user.id,
            process_id=process.id,
            level=level,
            message=message[:400],
        )
    )
    if not current_app.config.get("MAIL_SERVER") or not user.email:
        return None
    email = OutboxEmail(
        organization_id=process.organization_id,
        to_address=user.email,
        subject=f"[Tenant Reseller BSS] {process.name}: {status}",
        body=f"{message}\n\nOpen the process: /processes/{process.id}\n",
    )
    db.session.add(email)
    return email


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def for_user(user_id: int, organization_id: int, limit: int = 100):
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.organization_id == organization_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def mark_all_read(user_id: int) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
