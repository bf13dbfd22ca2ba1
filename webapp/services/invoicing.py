"""The invoice run: the distributor bills each tenant reseller, once a month, for the
subscriptions of the reseller's sub-customers that back-ordering copied up.

Separate Invoices rule: a sub-customer whose own `separate_invoices` flag is set gets an invoice
of its own (grouping "sub-customer:<id>"); the reseller's other sub-customers share one
consolidated invoice (grouping "consolidated"). The flag is copied from the tenant reseller's
setting when back-ordering copies the sub-customer up, and staff can override it per account.

A run is idempotent: the unique key (organization, reseller, period, grouping) finds the
invoice an earlier run made, its lines are rebuilt and its number kept. Invoices of the period
that the run no longer produces (say a sub-customer's override moved it back to the
consolidated invoice) are removed, so nothing is billed twice."""

from __future__ import annotations

import re
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from webapp.extensions import db
from webapp.models import (
    Account,
    Invoice,
    InvoiceLine,
    Organization,
    Subscription,
    SubscriptionStatus,
    User,
)
from webapp.services import audit

CENT = Decimal("0.01")
CONSOLIDATED = "consolidated"
SUB_CUSTOMER_PREFIX = "sub-customer:"
NUMBER_PREFIX = "INV"
# Two runs at the same moment can pick the same new number or insert the same invoice: the
# database refuses the second, which then runs again and finds the first one's invoices.
ATTEMPTS = 3

_PERIOD = re.compile(r"(\d{4})-(\d{2})")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class BadPeriod(ValueError):
    """A period the run cannot use; the message is for the person who typed it."""


@dataclass(frozen=True)
class Period:
    """A calendar month of the distributor's time zone."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, today: date | None = None) -> Period:
        """YYYY-MM of a month that has started; BadPeriod says what is wrong otherwise."""
        text = (text or "").strip()
        if not text:
            raise BadPeriod("Enter a period as YYYY-MM, for example 2026-11.")
        match = _PERIOD.fullmatch(text)
        if match is None:
            raise BadPeriod(
                f"{text[:20]!r} is not a period: use YYYY-MM (year and month), for example 2026-11."
            )
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise BadPeriod("The month must be between 01 and 12.")
        if year < 2000:
            raise BadPeriod("The year must be 2000 or later.")
        period = cls(year, month)
        if today is not None and (year, month) > (today.year, today.month):
            raise BadPeriod(f"{period.title} has not started yet: choose this month or earlier.")
        return period

    @classmethod
    def last_month(cls, today: date) -> Period:
        return cls(today.year - 1, 12) if today.month == 1 else cls(today.year, today.month - 1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        return f"{MONTHS[self.month - 1]} {self.year}"

    @property
    def audit_id(self) -> int:
        """202611 for 2026-11: the audit rows of one period's runs share this entity id."""
        return self.year * 100 + self.month

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + 1, 1, 1) if self.month == 12 else date(self.year, self.month + 1, 1)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: midnight of the first day of this month and of the next one,
        in the distributor's time zone."""
        tz = org_zone(timezone)
        start = datetime.combine(self.first_day, datetime.min.time(), tz)
        end = datetime.combine(self.next_first_day, datetime.min.time(), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return self.label


def org_zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def org_today(organization: Organization) -> date:
    """Today in the organization's time zone."""
    return datetime.now(org_zone(organization.timezone)).date()


def parse_period(text: str | None, organization: Organization) -> Period:
    return Period.parse(text, today=org_today(organization))


def default_period(organization: Organization) -> Period:
    return Period.last_month(org_today(organization))


def grouping_for(sub_customer: Account) -> str:
    """The Separate Invoices rule, read from the sub-customer's own flag."""
    if sub_customer.separate_invoices:
        return f"{SUB_CUSTOMER_PREFIX}{sub_customer.id}"
    return CONSOLIDATED


def line_amount(quantity: int, unit_price: Decimal) -> Decimal:
    return (Decimal(quantity) * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def billable_subscriptions(organization_id: int, period: Period, timezone: str):
    """(subscription, sub-customer, reseller) rows billed for the period: copied subscriptions
    created before the period's end that were Active, or changed or cancelled on or after the
    period's start, of accounts that have a parent (the reseller's account)."""
    start, end = period.bounds(timezone)
    sub_customer = aliased(Account, name="sub_customer")
    reseller = aliased(Account, name="reseller")
    stmt = (
        select(Subscription, sub_customer, reseller)
        .join(sub_customer, Subscription.account_id == sub_customer.id)
        .join(reseller, sub_customer.parent_account_id == reseller.id)
        .options(joinedload(Subscription.product))
        .where(
            Subscription.organization_id == organization_id,
            Subscription.managed_by_reseller.is_(True),
            sub_customer.organization_id == organization_id,
            reseller.organization_id == organization_id,
            Subscription.created_at < end,
            or_(
                Subscription.status == SubscriptionStatus.ACTIVE,
                Subscription.updated_at >= start,
            ),
        )
        .order_by(reseller.name, reseller.id, sub_customer.name, sub_customer.id, Subscription.id)
    )
    return db.session.execute(stmt).all()


@dataclass
class RunResult:
    period: Period
    invoices: list[Invoice] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def resellers(self) -> int:
        return len({invoice.account_id for invoice in self.invoices})

    @property
    def lines(self) -> int:
        return sum(len(invoice.lines) for invoice in self.invoices)

    @property
    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency(self.invoices)

    @property
    def summary(self) -> str:
        text = (
            f"Invoice run {self.period}: {len(self.invoices)} invoice(s) to "
            f"{self.resellers} reseller(s) with {self.lines} line(s) "
            f"({self.created} new, {self.updated} updated, {len(self.removed)} removed)"
        )
        if self.totals:
            text += "; total " + ", ".join(f"{c} {t}" for c, t in self.totals.items())
        return text + "."


def totals_by_currency(invoices) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for invoice in invoices:
        totals[invoice.currency] += invoice.total
    return {currency: totals[currency].quantize(CENT) for currency in sorted(totals)}


def run(organization_id: int, period: Period, actor: User | None) -> RunResult:
    """Make or update the period's invoices, remove the ones no longer due, audit, commit."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _run_once(organization_id, period, actor)
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _run_once(organization_id: int, period: Period, actor: User | None) -> RunResult:
    # One run per organization at a time (PostgreSQL); SQLite serializes writers anyway.
    organization = db.session.scalar(
        select(Organization).where(Organization.id == organization_id).with_for_update()
    )
    result = RunResult(period)
    planned: dict[tuple[int, str], list[tuple[Subscription, Account]]] = {}
    resellers: dict[int, Account] = {}
    # New numbers follow the list: by reseller, its consolidated invoice first.
    order: dict[tuple[int, str], tuple] = {}
    for subscription, sub_customer, reseller in billable_subscriptions(
        organization_id, period, organization.timezone
    ):
        if subscription.currency != reseller.billing_currency:
            result.warnings.append(
                f"{sub_customer.name}: {subscription.product.name} is priced in "
                f"{subscription.currency} but {reseller.name} is billed in "
                f"{reseller.billing_currency}; not invoiced."
            )
            continue
        resellers[reseller.id] = reseller
        grouping = grouping_for(sub_customer)
        planned.setdefault((reseller.id, grouping), []).append((subscription, sub_customer))
        order.setdefault(
            (reseller.id, grouping),
            (reseller.name, reseller.id, grouping != CONSOLIDATED, sub_customer.name),
        )

    existing = {
        (invoice.account_id, invoice.grouping): invoice
        for invoice in db.session.scalars(
            Invoice.in_org(organization_id)
            .where(Invoice.period == period.label)
            .options(selectinload(Invoice.lines))
        )
    }
    numbers = _number_sequence(period)
    for reseller_id, grouping in sorted(planned, key=order.__getitem__):
        rows = planned[(reseller_id, grouping)]
        reseller = resellers[reseller_id]
        lines = [
            InvoiceLine(
                subscription_id=subscription.id,
                description=f"{sub_customer.name}: {subscription.product.name}"[:300],
                quantity=subscription.quantity,
                unit_price=subscription.unit_price,
                amount=line_amount(subscription.quantity, subscription.unit_price),
            )
            for subscription, sub_customer in rows
        ]
        invoice = existing.pop((reseller_id, grouping), None)
        if invoice is None:
            invoice = Invoice(
                organization_id=organization_id,
                account_id=reseller_id,
                period=period.label,
                grouping=grouping,
                number=next(numbers),
            )
            result.created += 1
        else:
            result.updated += 1
        invoice.sub_customer_id = rows[0][1].id if grouping != CONSOLIDATED else None
        invoice.currency = reseller.billing_currency
        invoice.lines = lines  # the previous lines are orphans now, deleted at the flush
        invoice.total = sum((line.amount for line in lines), Decimal("0.00"))
        db.session.add(invoice)
        result.invoices.append(invoice)
    for stale in existing.values():
        result.removed.append(stale.number)
        db.session.delete(stale)
    db.session.flush()
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="invoice_run.run",
        entity_type="invoice_run",
        entity_id=period.audit_id,
        summary=result.summary[:400],
        after={
            "period": period.label,
            "invoices": [invoice.number for invoice in result.invoices],
            "created": result.created,
            "updated": result.updated,
            "removed": result.removed,
            "totals": {currency: str(total) for currency, total in result.totals.items()},
            "warnings": result.warnings,
        },
    )
    db.session.commit()
    return result


def _number_sequence(period: Period):
    """INV-2026-11-0001, -0002, …: numbers are unique across every organization, so the
    sequence continues after the highest one of the period."""
    prefix = f"{NUMBER_PREFIX}-{period.label}-"
    used = db.session.scalars(select(Invoice.number).where(Invoice.number.like(f"{prefix}%")))
    highest = max((int(n[len(prefix) :]) for n in used if n[len(prefix) :].isdigit()), default=0)
    sequence = highest
    while True:
        sequence += 1
        yield f"{prefix}{sequence:04d}"


def invoices_of(organization_id: int, period: Period) -> list[Invoice]:
    """The period's invoices: by reseller, its consolidated invoice first, then by number."""
    reseller = aliased(Account)
    return list(
        db.session.scalars(
            Invoice.in_org(organization_id)
            .join(reseller, Invoice.account_id == reseller.id)
            .where(Invoice.period == period.label)
            .options(
                selectinload(Invoice.lines),
                joinedload(Invoice.account),
                joinedload(Invoice.sub_customer),
            )
            .order_by(
                reseller.name,
                reseller.id,
                (Invoice.grouping != CONSOLIDATED),
                Invoice.number,
            )
        )
    )


def period_of(invoice: Invoice) -> Period:
    return Period.parse(invoice.period)
