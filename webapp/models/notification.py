"""In-app notifications and the email outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime


class Notification(OrgScoped, TimestampMixin, db.Model):
    """Tells the staff member who started a process how it ended."""

    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"))
    level: Mapped[str] = mapped_column(String(20), default="info")
    message: Mapped[str] = mapped_column(String(400))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxEmail(OrgScoped, TimestampMixin, db.Model):
    """An email written in the same transaction as its cause, sent later by a job."""

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Rendered when the email is sent, e.g. "invoice:12" for an invoice's PDF.
    attachment: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="Pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(400), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
