"""The distributor's invoices to its tenant resellers, built by the monthly invoice run."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.account import Account
from webapp.models.base import Money, OrgScoped, TimestampMixin


class Invoice(OrgScoped, TimestampMixin, db.Model):
    """One invoice of a period to a reseller: consolidated, or for one sub-customer."""

    # grouping is "consolidated" or "sub-customer:<account id>": a re-run of the same
    # period finds the same invoice instead of making a second one.
    __table_args__ = (UniqueConstraint("organization_id", "account_id", "period", "grouping"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    sub_customer_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    period: Mapped[str] = mapped_column(String(7))
    grouping: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    sub_customer: Mapped[Account | None] = relationship(foreign_keys=[sub_customer_id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )


class InvoiceLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
