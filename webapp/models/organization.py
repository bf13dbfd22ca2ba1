"""Organizations (the distributor root and its tenants) and their users."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import OrgScoped, TimestampMixin, UTCDateTime


class Edition(StrEnum):
    BASIC = "Basic"
    PREMIUM = "Premium"


class OrgStatus(StrEnum):
    IN_PROGRESS = "In Progress"
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    MARKED_AS_DELETED = "Marked as Deleted"
    FAILED = "Failed"


class Organization(TimestampMixin, db.Model):
    """A BSS organization: the distributor (no parent) or a tenant reseller's own BSS."""

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(16), unique=True)
    edition: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(20), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    date_format: Mapped[str] = mapped_column(String(32), default="dd/MM/yyyy")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(20), default=OrgStatus.ACTIVE)
    # What its invoices say about the seller: its address, the tax it charges, when to pay.
    billing_address: Mapped[str] = mapped_column(Text, default="")
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    # The security settings page: the distributor's administrators must use two-factor.
    require_admin_two_factor: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    parent: Mapped[Organization | None] = relationship(remote_side=[id])

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def display_client_id(self) -> str:
        """Generated Client IDs are shown in two groups of five, easier to read aloud."""
        cid = self.client_id
        return f"{cid[:5]}-{cid[5:]}" if len(cid) == 10 else cid


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class User(UserMixin, OrgScoped, TimestampMixin, db.Model):
    """Somebody who signs in to one organization's BSS."""

    __table_args__ = (UniqueConstraint("organization_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254), default="")
    # "" until an invited user chooses a password: no password can match it.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # TOTP two-factor: the shared secret once enrolment was confirmed with a code, and the
    # last time step accepted, so that one code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    organization: Mapped[Organization] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled user cannot sign in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_password(self) -> bool:
        """False for an invited user who has not chosen a password yet."""
        return bool(self.password_hash)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)
