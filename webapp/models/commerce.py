"""End customers of a tenant's storefront: their logins, orders and subscriptions, and the
domain events that back-ordering propagates to the distributor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.account import Account
from webapp.models.base import Money, OrgScoped, TimestampMixin, UTCDateTime, utcnow
from webapp.models.catalog import Product


class StoreCustomer(OrgScoped, TimestampMixin, db.Model):
    """An end customer's storefront sign-in, tied to its Account in the tenant's BSS."""

    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))

    account: Mapped[Account] = relationship()


class SubscriptionStatus(StrEnum):
    ACTIVE = "Active"
    CANCELLED = "Cancelled"


class Subscription(OrgScoped, TimestampMixin, db.Model):
    """A product a customer pays for every billing period, at the price of its order."""

    # The distributor's copy of a tenant's subscription exists once per source.
    __table_args__ = (UniqueConstraint("organization_id", "source_subscription_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    billing_period: Mapped[str] = mapped_column(String(20), default="Monthly")
    unit_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.ACTIVE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Back-ordering: the distributor's copy of this subscription, once propagated.
    upstream_subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    managed_by_reseller: Mapped[bool] = mapped_column(default=False)
    source_subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    product: Mapped[Product] = relationship()

    @property
    def paid(self) -> bool:
        return self.unit_price > 0

    @property
    def period_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Order(OrgScoped, TimestampMixin, db.Model):
    """What a customer ordered at one time; each line creates or changes a subscription."""

    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="New")  # New, Change, Cancellation
    status: Mapped[str] = mapped_column(String(20), default="Completed")
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    managed_by_reseller: Mapped[bool] = mapped_column(default=False)
    # The distributor's order made by back-ordering from one order of the reseller's: once
    # per reseller order ("<tenant organization id>:<its order number>").
    source_order_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # When the change took effect for billing: when the reseller's customer ordered it, which
    # may be before back-ordering propagated it.
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    quantity: Mapped[int] = mapped_column(Integer)  # the change: +n, -n
    unit_price: Mapped[Decimal] = mapped_column(Money)
    # A back-ordering event is applied once: its line remembers the event.
    source_event_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class DomainEvent(OrgScoped, TimestampMixin, db.Model):
    """A fact recorded in the same transaction as the change (an outbox): back-ordering
    propagates each one exactly once, keyed by its idempotency key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="Pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(400), default="")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
