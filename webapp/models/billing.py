"""The distributor's invoices to its tenant resellers, built by the monthly invoice run.

An invoice is a Draft until the distributor issues it; only then does it get its number
(from a sequence per organization, series and year: never reused), its issue and due dates
and the seller's and buyer's details as they were that day. Issued invoices are never changed
or deleted: a later correction is a new draft — an invoice for what was billed too little, a
credit note for what was billed too much."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.account import Account
from webapp.models.base import Money, OrgScoped, TimestampMixin, UTCDateTime


class InvoiceStatus(StrEnum):
    DRAFT = "Draft"
    ISSUED = "Issued"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class Invoice(OrgScoped, TimestampMixin, db.Model):
    """One invoice (or credit note) of a period to a reseller: consolidated, or for one
    sub-customer."""

    __table_args__ = (
        # A re-run replaces a period's drafts: one draft per reseller, grouping and kind.
        Index(
            "uq_invoice_one_draft",
            "organization_id",
            "account_id",
            "period",
            "grouping",
            "kind",
            unique=True,
            sqlite_where=sql_text("status = 'Draft'"),
            postgresql_where=sql_text("status = 'Draft'"),
        ),
        Index("ix_invoice_organization_id_period", "organization_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Assigned when the invoice is issued (INV-2026-000001, CN-… for credit notes).
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT)
    kind: Mapped[str] = mapped_column(String(20), default=InvoiceKind.INVOICE)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    sub_customer_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    period: Mapped[str] = mapped_column(String(7))
    # "consolidated" or "sub-customer:<account id>" (the Separate Invoices rule).
    grouping: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    net_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money)  # gross: net + tax
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)
    # As they were when the invoice was issued.
    seller_name: Mapped[str] = mapped_column(String(200), default="")
    seller_address: Mapped[str] = mapped_column(Text, default="")
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_address: Mapped[str] = mapped_column(Text, default="")
    buyer_email: Mapped[str] = mapped_column(String(254), default="")

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    sub_customer: Mapped[Account | None] = relationship(foreign_keys=[sub_customer_id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class InvoiceLine(db.Model):
    """What one subscription costs for the period, prorated by day at one unit price."""

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)  # on the period's last billed day
    unit_price: Mapped[Decimal] = mapped_column(Money)  # per month
    # Σ over the period's days of the quantity in effect, and the period's days: the line is
    # unit_price × quantity_days / days_in_period.
    quantity_days: Mapped[int] = mapped_column(Integer, default=0)
    days_in_period: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Money)  # net, in the currency's precision

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceNumberSequence(OrgScoped, db.Model):
    """The last number used per organization, series (INV, CN) and year."""

    __table_args__ = (UniqueConstraint("organization_id", "series", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
