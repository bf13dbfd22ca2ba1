"""Self-service account security: emailed one-time links, two-factor recovery codes and the
storefront customers' server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
    INVITATION = "invitation"
    UNLOCK = "unlock"


class OneTimeToken(OrgScoped, TimestampMixin, db.Model):
    """A link sent by email (reset a password, accept an invitation, unlock sign-in): only its
    SHA-256 is stored, it expires, and it works once. It belongs to a staff user or to a
    storefront customer, never both."""

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (store_customer_id IS NULL)", name="one_owner"),
        Index("ix_one_time_token_user_purpose", "user_id", "purpose"),
        Index("ix_one_time_token_customer_purpose", "store_customer_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    store_customer_id: Mapped[int | None] = mapped_column(ForeignKey("store_customer.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(TimestampMixin, db.Model):
    """A single-use two-factor recovery code; only its SHA-256 is stored (the codes are random
    and long, so a fast hash is enough, as for API tokens)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoreCustomerSession(OrgScoped, TimestampMixin, db.Model):
    """A storefront customer's signed-in browser: sign-out revokes it on the server, so a copy
    of the cookie is worth nothing afterwards."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    store_customer_id: Mapped[int] = mapped_column(ForeignKey("store_customer.id"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
