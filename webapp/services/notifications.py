"""In-app notifications: the unread badge and the list (the process engine writes them,
see services/processes/lifecycle.py)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import Notification, utcnow


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
