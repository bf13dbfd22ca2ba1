"""The invoice run: the distributor bills each tenant reseller, once a month, for the
subscriptions of the reseller's sub-customers that back-ordering copied up.

Separate Invoices rule: a sub-customer whose own `separate_invoices` flag is set gets an invoice
of its own (grouping "sub-customer:<id>"); the reseller's other sub-customers share one
consolidated invoice (grouping "consolidated"). The flag is copied from the tenant reseller's
setting when back-ordering copies the sub-customer up, and staff can override it per account.

Only a closed month is billed (it has ended in the distributor's time zone). A run makes
drafts: for every subscription, what the month costs by the proration rule minus what issued
invoices and credit notes of that month have billed already. So a first run bills everything,
a re-run after a late change bills only the difference — an invoice for what was too little, a
credit note for what was too much — and nothing is billed twice. A re-run replaces the
month's drafts only; issued invoices are never changed or deleted. Issuing numbers the drafts
(a sequence per series and year, never reused), dates them, records the seller's and buyer's
details, and emails each to the reseller's billing contact with its PDF."""

from __future__ import annotations

import re
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from webapp.extensions import db
from webapp.models import (
    Account,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceStatus,
    Organization,
    Subscription,
    SubscriptionStatus,
    User,
    utcnow,
)
from webapp.services import audit, mail
from webapp.services.billing import proration
from webapp.services.billing.timeline import timelines

CONSOLIDATED = "consolidated"
SUB_CUSTOMER_PREFIX = "sub-customer:"
SERIES = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}

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


class InvoicingRefused(ValueError):
    """Issuing cannot happen now; the message says why and what to do."""


@dataclass(frozen=True)
class Period:
    """A calendar month of the distributor's time zone."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, today: date | None = None) -> Period:
        """YYYY-MM of a month that has ended (when `today` is given); BadPeriod otherwise."""
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
        if today is not None and (year, month) >= (today.year, today.month):
            raise BadPeriod(
                f"{period.title} has not ended yet: only a closed month is billed. Choose "
                f"{cls.last_month(today).title} or earlier."
            )
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


# --- What the month costs, and what was billed ---------------------------------------------


@dataclass(frozen=True)
class Due:
    """One subscription's charge at one unit price for the period."""

    subscription: Subscription
    sub_customer: Account
    reseller: Account
    charge: proration.Charge

    @property
    def key(self) -> tuple[int, Decimal]:
        return (self.subscription.id, self.charge.unit_price)


def billable_subscriptions(
    organization_id: int, period: Period, timezone: str, reseller_id: int | None = None
):
    """(subscription, sub-customer, reseller) rows that may cost something in the period:
    copied subscriptions created before the period's end, active or changed since its start,
    of accounts whose parent is the reseller's account."""
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
    if reseller_id is not None:
        stmt = stmt.where(reseller.id == reseller_id)
    return db.session.execute(stmt).all()


def resellers_to_bill(organization_id: int, period: Period) -> list[int]:
    """The accounts with sub-customers' subscriptions that may cost something in the period,
    or with invoices of the period (a credit note may be due), by id."""
    organization = db.session.get(Organization, organization_id)
    ids = {
        row[2].id for row in billable_subscriptions(organization_id, period, organization.timezone)
    }
    ids |= set(
        db.session.scalars(
            select(Invoice.account_id).where(
                Invoice.organization_id == organization_id, Invoice.period == period.label
            )
        )
    )
    return sorted(ids)


def dues(
    organization: Organization, period: Period, reseller_id: int | None = None
) -> tuple[list[Due], list[str]]:
    """What each subscription costs for the period by the proration rule; and warnings for
    what cannot be billed (a subscription priced in another currency than the reseller)."""
    rows = billable_subscriptions(organization.id, period, organization.timezone, reseller_id)
    history = timelines([row[0] for row in rows])
    zone = org_zone(organization.timezone)
    result, warnings = [], []
    for subscription, sub_customer, reseller in rows:
        if subscription.currency != reseller.billing_currency:
            warnings.append(
                f"{sub_customer.name}: {subscription.product.name} is priced in "
                f"{subscription.currency} but {reseller.name} is billed in "
                f"{reseller.billing_currency}; not invoiced."
            )
            continue
        for charge in proration.charges(
            history[subscription.id], period.year, period.month, zone, reseller.billing_currency
        ):
            result.append(Due(subscription, sub_customer, reseller, charge))
    return result, warnings


def billed(
    organization_id: int,
    period: Period,
    statuses=(InvoiceStatus.ISSUED,),
    reseller_id: int | None = None,
):
    """{(subscription id, unit price): (quantity-days, amount)} on the period's invoices
    and credit notes in these statuses (credit notes count negative)."""
    totals: dict[tuple[int, Decimal], list] = defaultdict(lambda: [0, Decimal(0)])
    stmt = (
        select(InvoiceLine.subscription_id, InvoiceLine.unit_price, InvoiceLine.quantity_days)
        .add_columns(InvoiceLine.amount)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.organization_id == organization_id,
            Invoice.period == period.label,
            Invoice.status.in_(list(statuses)),
        )
    )
    if reseller_id is not None:
        stmt = stmt.where(Invoice.account_id == reseller_id)
    rows = db.session.execute(stmt).all()
    for subscription_id, unit_price, quantity_days, amount in rows:
        entry = totals[(subscription_id, unit_price)]
        entry[0] += quantity_days
        entry[1] += amount
    return {key: (value[0], value[1]) for key, value in totals.items()}


# --- The run: drafts for what is still to bill ------------------------------------------------


@dataclass
class RunResult:
    period: Period
    invoices: list[Invoice] = field(default_factory=list)
    replaced: int = 0
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
        credit_notes = sum(1 for i in self.invoices if i.is_credit_note)
        text = (
            f"Invoice run {self.period}: {len(self.invoices) - credit_notes} draft invoice(s)"
            + (f" and {credit_notes} draft credit note(s)" if credit_notes else "")
            + f" to {self.resellers} reseller(s) with {self.lines} line(s)"
        )
        if self.totals:
            text += "; total " + ", ".join(f"{c} {t}" for c, t in self.totals.items())
        return text + "."


def totals_by_currency(invoices) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal(0))
    for invoice in invoices:
        totals[invoice.currency] += invoice.total
    return {c: proration.round_money(totals[c], c) for c in sorted(totals)}


def _description(due: Due) -> str:
    charge = due.charge
    if charge.quantity_days == charge.last_quantity * charge.days_in_month:
        text = f"{due.sub_customer.name}: {due.subscription.product.name}"
    else:
        text = (
            f"{due.sub_customer.name}: {due.subscription.product.name} "
            f"({charge.quantity_days} unit-days of {charge.days_in_month})"
        )
    return text[:300]


def build_drafts(organization_id: int, period: Period, reseller_id: int) -> RunResult:
    """Replace one reseller's drafts of the period with what is still to bill (not
    committed: the invoice run commits each reseller's drafts with its progress)."""
    organization = db.session.get(Organization, organization_id)
    result = RunResult(period)
    for draft in db.session.scalars(
        Invoice.in_org(organization_id).where(
            Invoice.period == period.label,
            Invoice.status == InvoiceStatus.DRAFT,
            Invoice.account_id == reseller_id,
        )
    ):
        db.session.delete(draft)
        result.replaced += 1
    db.session.flush()
    due_list, result.warnings = dues(organization, period, reseller_id)
    issued = billed(organization_id, period, reseller_id=reseller_id)
    # (reseller, grouping, kind) → lines
    planned: dict[tuple[int, str, str], list[tuple[Due, int, Decimal]]] = defaultdict(list)
    resellers: dict[int, Account] = {}
    seen = set()
    for due in due_list:
        seen.add(due.key)
        done_days, done_amount = issued.get(due.key, (0, Decimal(0)))
        days = due.charge.quantity_days - done_days
        amount = due.charge.amount - done_amount
        if amount == 0 and days == 0:
            continue
        kind = InvoiceKind.INVOICE if amount > 0 else InvoiceKind.CREDIT_NOTE
        planned[(due.reseller.id, grouping_for(due.sub_customer), kind)].append((due, days, amount))
        resellers[due.reseller.id] = due.reseller
    # Billed on an issued invoice but no longer due at all (cancelled before the month by a
    # late report, say): credited in full.
    for (subscription_id, unit_price), (days, amount) in issued.items():
        if (subscription_id, unit_price) in seen or amount == 0:
            continue
        sub = db.session.get(Subscription, subscription_id)
        sub_customer = db.session.get(Account, sub.account_id)
        reseller = db.session.get(Account, sub_customer.parent_account_id)
        charge = proration.Charge(unit_price, 0, 0, 0, Decimal(0))
        planned[(reseller.id, grouping_for(sub_customer), InvoiceKind.CREDIT_NOTE)].append(
            (Due(sub, sub_customer, reseller, charge), -days, -amount)
        )
        resellers[reseller.id] = reseller
    for (reseller_id, grouping, kind), rows in sorted(
        planned.items(), key=lambda item: (resellers[item[0][0]].name, item[0])
    ):
        reseller = resellers[reseller_id]
        invoice = Invoice(
            organization_id=organization_id,
            account_id=reseller_id,
            sub_customer_id=rows[0][0].sub_customer.id if grouping != CONSOLIDATED else None,
            period=period.label,
            grouping=grouping,
            kind=kind,
            status=InvoiceStatus.DRAFT,
            currency=reseller.billing_currency,
        )
        invoice.lines = [
            InvoiceLine(
                subscription_id=due.subscription.id,
                description=_description(due),
                quantity=due.charge.last_quantity,
                unit_price=due.charge.unit_price,
                quantity_days=days,
                days_in_period=due.charge.days_in_month,
                amount=amount,
            )
            for due, days, amount in rows
        ]
        set_totals(invoice, organization.tax_rate)
        db.session.add(invoice)
        result.invoices.append(invoice)
    db.session.flush()
    return result


def set_totals(invoice: Invoice, tax_rate: Decimal) -> None:
    """Net from the lines, tax at the rate, gross: each in the currency's precision."""
    net = proration.round_money(
        sum((line.amount for line in invoice.lines), Decimal(0)), invoice.currency
    )
    invoice.net_total = net
    invoice.tax_rate = tax_rate
    invoice.tax_total = proration.tax(net, tax_rate, invoice.currency)
    invoice.total = net + invoice.tax_total


# --- Issuing ----------------------------------------------------------------------------------


def next_number(organization_id: int, kind: str, year: int) -> str:
    """The next number of the series: INV-2026-000001, CN-2026-000001. The counter moves
    in the same transaction as the invoice it numbers, so a number is never used twice and
    none is skipped."""
    series = SERIES[InvoiceKind(kind)]
    sequence = db.session.scalar(
        InvoiceNumberSequence.in_org(organization_id)
        .where(InvoiceNumberSequence.series == series, InvoiceNumberSequence.year == year)
        .with_for_update()
    )
    if sequence is None:
        sequence = InvoiceNumberSequence(
            organization_id=organization_id, series=series, year=year, last_number=0
        )
        db.session.add(sequence)
    sequence.last_number += 1
    db.session.flush()
    return f"{series}-{year}-{sequence.last_number:06d}"


def issue(invoice: Invoice, organization: Organization, actor: User | None):
    """Number, date and freeze one draft; returns its email (to send after commit)."""
    if not invoice.is_draft:
        return None
    today = org_today(organization)
    invoice.number = next_number(organization.id, invoice.kind, today.year)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = utcnow()
    invoice.due_date = today + timedelta(days=organization.payment_terms_days)
    buyer = invoice.account
    invoice.seller_name = organization.name
    invoice.seller_address = organization.billing_address
    invoice.buyer_name = buyer.name
    invoice.buyer_address = buyer.billing_address
    invoice.buyer_email = buyer.billing_email or buyer.email
    audit.record(
        organization_id=organization.id,
        actor=actor,
        action="invoice.issue",
        entity_type="invoice",
        entity_id=invoice.id,
        summary=f"{invoice.number} issued to {buyer.name}: {invoice.currency} {invoice.total}",
    )
    if not invoice.buyer_email:
        return None
    what = "Credit note" if invoice.is_credit_note else "Invoice"
    period = Period.parse(invoice.period)
    email = mail.compose(
        organization.id,
        invoice.buyer_email,
        f"{what} {invoice.number} from {organization.name} for {period.title}",
        f"Dear {buyer.name},\n\nPlease find attached {what.lower()} {invoice.number} for "
        f"{period.title}: {invoice.currency} {invoice.total} "
        + (f"due on {invoice.due_date.isoformat()}" if not invoice.is_credit_note else "")
        + f".\n\n{organization.name}\n",
    )
    email.attachment = f"invoice:{invoice.id}"
    return email


def drafts_of(organization_id: int, period: Period) -> list[Invoice]:
    return [i for i in invoices_of(organization_id, period) if i.is_draft]


def invoices_of(organization_id: int, period: Period) -> list[Invoice]:
    """The period's invoices and credit notes: by reseller, drafts and then issued ones, its
    consolidated invoice first, then by number."""
    return list(db.session.scalars(invoices_of_stmt(organization_id, period)))


def invoices_of_stmt(organization_id: int, period: Period):
    """The statement behind `invoices_of` (streamed by the CSV export)."""
    reseller = aliased(Account)
    return (
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
            Invoice.kind,
            Invoice.id,
        )
    )


def period_of(invoice: Invoice) -> Period:
    return Period.parse(invoice.period)
