"""Reconciliation: the proof that every paid subscription reaches the distributor's invoice
exactly once.

Two comparisons, for every tenant reseller with back-ordering: each paid subscription in the
tenant's BSS against its copy in the distributor's BSS (product, quantity, status, price at
the distributor's price list, currency); and, for a closed month, each copy against that
month's invoices (issued and draft): what the month costs by the proration rule against what
they bill. Zero differences is the expected answer; each difference says what is wrong and
which repair applies (a queued, audited process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Account,
    InvoiceStatus,
    Organization,
    PriceListItem,
    Product,
    Subscription,
    TenantReseller,
)
from webapp.services import invoicing
from webapp.services.invoicing import Period


@dataclass
class Difference:
    kind: str  # missing_copy, product, quantity, status, price, currency, invoice
    tenant_reseller_id: int | None
    reseller: str
    message: str
    subscription_id: int | None = None  # in the tenant's BSS
    copy_id: int | None = None  # in the distributor's BSS
    period: str | None = None
    expected: str = ""
    actual: str = ""

    @property
    def repair(self) -> str:
        """What the repair process does about it."""
        if self.kind == "invoice":
            return f"Run the invoice run of {self.period} again (drafts for the difference)."
        return (
            "Send the subscription's current state to your BSS again (an order for the difference)."
        )


@dataclass
class Report:
    period: Period | None
    subscriptions: int = 0
    invoice_lines: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_json(self) -> dict:
        return {
            "period": self.period.label if self.period else None,
            "subscriptions_checked": self.subscriptions,
            "invoice_lines_checked": self.invoice_lines,
            "differences": [{**asdict(d), "repair": d.repair} for d in self.differences],
        }


def _copy_of(sub: Subscription, distributor_id: int, copies: dict[int, Subscription]):
    if sub.source_subscription_id is not None:
        original = db.session.get(Subscription, sub.source_subscription_id)
        if original is not None and original.organization_id == distributor_id:
            return original
    return copies.get(sub.id)


def check_subscriptions(
    organization: Organization, report: Report, only: int | None = None
) -> None:
    """Each paid subscription of each tenant with back-ordering against its copy (`only`: one
    subscription of a tenant's BSS)."""
    tenants = db.session.scalars(
        TenantReseller.in_org(organization.id).where(TenantReseller.back_ordering_active.is_(True))
    ).all()
    for tenant in tenants:
        reseller = db.session.get(Account, tenant.account_id)
        paid_query = Subscription.in_org(tenant.tenant_organization_id).where(
            Subscription.unit_price > 0
        )
        if only is not None:
            paid_query = paid_query.where(Subscription.id == only)
        paid = db.session.scalars(paid_query.order_by(Subscription.id)).all()
        copies = {
            c.source_subscription_id: c
            for c in db.session.scalars(
                Subscription.in_org(organization.id).where(
                    Subscription.source_subscription_id.in_([s.id for s in paid])
                )
            )
        }
        prices = dict(
            db.session.execute(
                select(PriceListItem.product_id, PriceListItem.retail_price).where(
                    PriceListItem.price_list_id == tenant.price_list_id
                )
            ).all()
        )
        for sub in paid:
            report.subscriptions += 1
            product = db.session.get(Product, sub.product_id)
            if product.source_product_id is None:
                continue  # the reseller's own product: not the distributor's to bill
            price = prices.get(product.source_product_id)
            copy = _copy_of(sub, organization.id, copies)
            for kind, message, expected, actual in _compare(sub, product, copy, price, reseller):
                report.differences.append(
                    Difference(
                        kind=kind,
                        tenant_reseller_id=tenant.id,
                        reseller=reseller.name,
                        message=f"{sub.account.name}: {product.name}: {message}",
                        subscription_id=sub.id,
                        copy_id=copy.id if copy is not None else None,
                        expected=str(expected),
                        actual=str(actual),
                    )
                )


def _compare(sub: Subscription, product: Product, copy, price, reseller: Account):
    """(kind, message, expected, actual) for each way the copy differs from the original."""
    if copy is None:
        return [("missing_copy", "not in your BSS (never propagated)", sub.quantity, "")]
    found = []
    if copy.product_id != product.source_product_id:
        found.append(
            (
                "product",
                "a different product in your BSS",
                product.source_product_id,
                copy.product_id,
            )
        )
    if copy.status != sub.status:
        found.append(
            (
                "status",
                f"{sub.status} for the reseller, {copy.status} in your BSS",
                sub.status,
                copy.status,
            )
        )
    elif copy.quantity != sub.quantity:
        found.append(
            (
                "quantity",
                f"quantity {sub.quantity} for the reseller, {copy.quantity} in your BSS",
                sub.quantity,
                copy.quantity,
            )
        )
    if price is not None and copy.unit_price != price:
        found.append(
            (
                "price",
                f"priced {copy.unit_price} in your BSS, {price} in the reseller's price list",
                price,
                copy.unit_price,
            )
        )
    if copy.currency != reseller.billing_currency:
        found.append(
            (
                "currency",
                f"in {copy.currency}, the reseller is billed in {reseller.billing_currency}",
                reseller.billing_currency,
                copy.currency,
            )
        )
    return found


def check_invoices(organization: Organization, period: Period, report: Report) -> None:
    dues, _warnings = invoicing.dues(organization, period)
    billed = invoicing.billed(
        organization.id, period, statuses=(InvoiceStatus.ISSUED, InvoiceStatus.DRAFT)
    )
    expected = {due.key: due for due in dues}
    report.invoice_lines = len(billed)
    for key in sorted(set(expected) | set(billed)):
        due = expected.get(key)
        cost = due.charge.amount if due else Decimal(0)
        got = billed.get(key, (0, Decimal(0)))[1]
        if cost == got:
            continue
        sub = due.subscription if due else db.session.get(Subscription, key[0])
        sub_customer = due.sub_customer if due else db.session.get(Account, sub.account_id)
        reseller = due.reseller if due else db.session.get(Account, sub_customer.parent_account_id)
        tenant = db.session.scalar(
            select(TenantReseller).where(TenantReseller.account_id == reseller.id)
        )
        report.differences.append(
            Difference(
                kind="invoice",
                tenant_reseller_id=tenant.id if tenant else None,
                reseller=reseller.name,
                message=(
                    f"{sub_customer.name}: {sub.product.name}: {period.title} costs {cost} "
                    f"{reseller.billing_currency}, its invoices bill {got}"
                ),
                copy_id=sub.id,
                period=period.label,
                expected=str(cost),
                actual=str(got),
            )
        )


def reconcile(organization_id: int, period: Period | None = None) -> Report:
    """Both comparisons (the invoices one for a closed month: the last one by default)."""
    organization = db.session.get(Organization, organization_id)
    if period is None:
        period = invoicing.default_period(organization)
    report = Report(period=period)
    check_subscriptions(organization, report)
    check_invoices(organization, period, report)
    return report
