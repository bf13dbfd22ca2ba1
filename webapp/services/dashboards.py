"""The numbers behind the home dashboards: each chart's numbers come from one query.

Functions take the organization id and the moment "now" (tests pass a fixed one) and return
plain rows the templates draw as SVG bars with a table alternative."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.models import (
    DomainEvent,
    Invoice,
    Order,
    Process,
    ProcessTask,
    Product,
    StoreCustomer,
    Subscription,
    TenantReseller,
)
from webapp.models.billing import InvoiceStatus
from webapp.models.commerce import SubscriptionStatus
from webapp.models.process import ProcessStatus, TaskStatus
from webapp.models.tenant import TenantStatus

# Outcomes in the order the stacked bars and the table show them.
OUTCOMES = ("Completed", "Failed", "Cancelled", "Running", "Queued")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


@dataclass
class DayOutcomes:
    day: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class StepTiming:
    step: str
    title: str
    count: int
    median_seconds: float
    p95_seconds: float


@dataclass(frozen=True)
class MonthAmount:
    month: str  # YYYY-MM
    currency: str
    amount: Decimal
    count: int


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p50 = median of an odd list; p95 of 20 values = the 19th)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The middle value, or the mean of the two middle ones."""
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --- the distributor ---------------------------------------------------------------------


def tenants_by_status(org_id: int) -> list[Bar]:
    """Tenant resellers per status, every status shown (zero too)."""
    counts = dict(
        db.session.execute(
            select(TenantReseller.status, func.count())
            .where(TenantReseller.organization_id == org_id)
            .group_by(TenantReseller.status)
        ).all()
    )
    return [Bar(str(s), counts.get(s.value, 0)) for s in TenantStatus]


def processes_per_day(org_id: int, now: datetime, days: int = 30) -> list[DayOutcomes]:
    """Processes started on each of the last `days` days (UTC, today included) by outcome."""
    first = (now - timedelta(days=days - 1)).date()
    start = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    rows = db.session.execute(
        select(Process.created_at, Process.status).where(
            Process.organization_id == org_id, Process.created_at >= start
        )
    ).all()
    by_day = {
        first + timedelta(days=i): DayOutcomes(first + timedelta(days=i)) for i in range(days)
    }
    for created_at, status in rows:
        bucket = by_day.get(created_at.date())
        if bucket is not None:
            bucket.counts[status] = bucket.counts.get(status, 0) + 1
    return list(by_day.values())


def creation_step_timings(org_id: int) -> list[StepTiming]:
    """Median and p95 duration of each step of completed tenant creations, in step order."""
    rows = db.session.execute(
        select(
            ProcessTask.position,
            ProcessTask.step,
            ProcessTask.title,
            ProcessTask.started_at,
            ProcessTask.finished_at,
        )
        .join(Process, Process.id == ProcessTask.process_id)
        .where(
            Process.organization_id == org_id,
            Process.kind == "create_tenant_reseller",
            ProcessTask.status == TaskStatus.COMPLETED,
            ProcessTask.started_at.is_not(None),
            ProcessTask.finished_at.is_not(None),
        )
    ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    meta: dict[str, tuple[int, str]] = {}
    for position, step, title, started, finished in rows:
        durations[step].append((finished - started).total_seconds())
        meta.setdefault(step, (position, title))
    return [
        StepTiming(step, meta[step][1], len(values), median(values), percentile(values, 0.95))
        for step, values in sorted(durations.items(), key=lambda item: meta[item[0]][0])
    ]


def backordered_orders_per_month(org_id: int) -> list[MonthAmount]:
    """The distributor's orders made by back-ordering, per month and currency."""
    rows = db.session.execute(
        select(Order.created_at, Order.currency, Order.total).where(
            Order.organization_id == org_id, Order.source_order_key.is_not(None)
        )
    ).all()
    totals: dict[tuple[str, str], list] = {}
    for created_at, currency, total in rows:
        entry = totals.setdefault((created_at.strftime("%Y-%m"), currency), [Decimal(0), 0])
        entry[0] += total
        entry[1] += 1
    return [MonthAmount(m, c, a, n) for (m, c), (a, n) in sorted(totals.items())]


def invoiced_per_month(org_id: int) -> list[MonthAmount]:
    """Issued invoices (credit notes count negative) per billed month and currency, net."""
    rows = db.session.execute(
        select(Invoice.period, Invoice.currency, func.sum(Invoice.net_total), func.count())
        .where(Invoice.organization_id == org_id, Invoice.status == InvoiceStatus.ISSUED)
        .group_by(Invoice.period, Invoice.currency)
        .order_by(Invoice.period, Invoice.currency)
    ).all()
    return [MonthAmount(p, c, Decimal(a or 0), n) for p, c, a, n in rows]


@dataclass(frozen=True)
class Attention:
    failed_processes: list[Process]
    failed_events: list[tuple[DomainEvent, TenantReseller]]
    stuck_processes: list[Process]

    @property
    def empty(self) -> bool:
        return not (self.failed_processes or self.failed_events or self.stuck_processes)


def needs_a_person(org_id: int, now: datetime, stale_seconds: int, limit: int = 10) -> Attention:
    """What only a person can fix: failed processes and back-ordering events, and running
    processes whose worker stopped reporting."""
    failed = db.session.scalars(
        select(Process)
        .where(Process.organization_id == org_id, Process.status == ProcessStatus.FAILED)
        .order_by(Process.id.desc())
        .limit(limit)
    ).all()
    events = db.session.execute(
        select(DomainEvent, TenantReseller)
        .join(TenantReseller, TenantReseller.tenant_organization_id == DomainEvent.organization_id)
        .where(TenantReseller.organization_id == org_id, DomainEvent.status == "Failed")
        .order_by(DomainEvent.id.desc())
        .limit(limit)
    ).all()
    stale_before = now - timedelta(seconds=stale_seconds)
    stuck = db.session.scalars(
        select(Process)
        .where(
            Process.organization_id == org_id,
            Process.status == ProcessStatus.RUNNING,
            or_(Process.heartbeat_at.is_(None), Process.heartbeat_at < stale_before),
        )
        .order_by(Process.id)
        .limit(limit)
    ).all()
    return Attention(list(failed), [tuple(row) for row in events], list(stuck))


# --- a tenant ----------------------------------------------------------------------------


def _months_back(now: datetime, months: int) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def orders_per_month(org_id: int, now: datetime, months: int = 12) -> list[Bar]:
    """The tenant's orders placed in each of the last `months` months (this one included)."""
    keys = _months_back(now, months)
    first = datetime(int(keys[0][:4]), int(keys[0][5:]), 1, tzinfo=now.tzinfo)
    created = db.session.scalars(
        select(Order.created_at).where(Order.organization_id == org_id, Order.created_at >= first)
    ).all()
    counts = dict.fromkeys(keys, 0)
    for moment in created:
        key = moment.strftime("%Y-%m")
        if key in counts:
            counts[key] += 1
    return [Bar(k, v) for k, v in counts.items()]


def active_subscriptions_per_month(org_id: int, now: datetime, months: int = 12) -> list[Bar]:
    """Subscriptions active at the end of each month: created by then and not cancelled by
    then (a cancelled one counts until its last change)."""
    keys = _months_back(now, months)
    rows = db.session.execute(
        select(Subscription.created_at, Subscription.status, Subscription.updated_at).where(
            Subscription.organization_id == org_id
        )
    ).all()
    bars = []
    for key in keys:
        year, month = int(key[:4]), int(key[5:])
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=now.tzinfo)
        active = sum(
            1
            for created, status, updated in rows
            if created < end and (status == SubscriptionStatus.ACTIVE or updated >= end)
        )
        bars.append(Bar(key, active))
    return bars


@dataclass(frozen=True)
class Recurring:
    currency: str
    amount: Decimal
    subscriptions: int


def monthly_recurring_revenue(org_id: int) -> list[Recurring]:
    """Active subscriptions' monthly price × quantity, per currency (annual ones / 12)."""
    rows = db.session.execute(
        select(
            Subscription.currency,
            Subscription.billing_period,
            func.sum(Subscription.unit_price * Subscription.quantity),
            func.count(),
        )
        .where(
            Subscription.organization_id == org_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        .group_by(Subscription.currency, Subscription.billing_period)
    ).all()
    totals: dict[str, list] = {}
    for currency, period, amount, count in rows:
        entry = totals.setdefault(currency, [Decimal(0), 0])
        monthly = Decimal(amount or 0)
        if str(period).lower() in ("annual", "yearly"):
            monthly = monthly / 12
        entry[0] += monthly
        entry[1] += count
    return [Recurring(c, a.quantize(Decimal("0.01")), n) for c, (a, n) in sorted(totals.items())]


def top_products(org_id: int, limit: int = 5) -> list[Bar]:
    """Products by quantity on active subscriptions, most first."""
    rows = db.session.execute(
        select(Product.name, func.sum(Subscription.quantity).label("quantity"))
        .join(Product, Product.id == Subscription.product_id)
        .where(
            Subscription.organization_id == org_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        .group_by(Product.id, Product.name)
        .order_by(func.sum(Subscription.quantity).desc(), Product.name)
        .limit(limit)
    ).all()
    return [Bar(name, int(quantity)) for name, quantity in rows]


def storefront_customers(org_id: int) -> int:
    """Customers who signed up on the tenant's storefront."""
    return db.session.scalar(
        select(func.count())
        .select_from(StoreCustomer)
        .where(StoreCustomer.organization_id == org_id)
    )
