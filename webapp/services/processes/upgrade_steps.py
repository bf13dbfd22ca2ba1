"""Upgrading a lite reseller: copy its customers and their subscriptions into the tenant's
BSS ("Transfer Subscriptions"), then activate back-ordering. Each step is idempotent: the
copies are keyed by their source rows. Afterwards the distributor's originals are the
reseller's copies: managed by the reseller, read-only, billed."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Organization,
    PriceList,
    PriceListItem,
    Product,
    Subscription,
    SubscriptionStatus,
)
from webapp.services import backordering
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step


def copy_customers(ctx: StepContext) -> str:
    """The lite reseller's customers in the distributor's BSS, copied down once each."""
    tenant = ctx.tenant
    customers = backordering.sub_customers(tenant)
    for done, customer in enumerate(customers, start=1):
        backordering.copy_account_down(tenant, customer)
        ctx.progress(done, len(customers))
    return f"{len(customers)} customer(s) in the tenant's BSS."


def _tenant_price(org: Organization, product: Product):
    default = db.session.scalar(
        PriceList.in_org(org.id).where(PriceList.name == f"Default {org.currency}")
    )
    price = None
    if default is not None:
        price = db.session.scalar(
            select(PriceListItem.retail_price).where(
                PriceListItem.price_list_id == default.id,
                PriceListItem.product_id == product.id,
            )
        )
    return price if price is not None else product.cost_price


def transfer_subscriptions(ctx: StepContext) -> str:
    """Each active subscription of those customers, in the tenant's BSS (once)."""
    tenant = ctx.tenant
    org = db.session.get(Organization, tenant.tenant_organization_id)
    sources = [
        sub
        for customer in backordering.sub_customers(tenant)
        for sub in db.session.scalars(
            Subscription.in_org(tenant.organization_id).where(
                Subscription.account_id == customer.id,
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        )
    ]
    created = 0
    for done, source in enumerate(sources, start=1):
        exists = db.session.scalar(
            select(Subscription.id).where(
                Subscription.organization_id == org.id,
                Subscription.source_subscription_id == source.id,
            )
        )
        if exists is None:
            product = db.session.scalar(
                Product.in_org(org.id).where(Product.source_product_id == source.product_id)
            )
            if product is None:
                raise StepFailure(
                    f"{source.product.name} (a subscription of {source.account.name}) is not in "
                    "the tenant's catalogue: it is not in the tenant's price list. Add it to "
                    "that price list and run Update Tenant (Full), then retry."
                )
            account = backordering.copy_account_down(tenant, source.account)
            db.session.add(
                Subscription(
                    organization_id=org.id,
                    account_id=account.id,
                    product_id=product.id,
                    quantity=source.quantity,
                    billing_period=source.billing_period,
                    unit_price=_tenant_price(org, product),
                    currency=org.currency,
                    source_subscription_id=source.id,
                )
            )
            created += 1
        # From now on the reseller's BSS holds the master copy: the distributor's original
        # is its copy, read-only for the distributor and billed to the reseller.
        source.managed_by_reseller = True
        source.account.managed_by_reseller = True
        ctx.progress(done, len(sources))
    return (
        f"{len(sources)} subscription(s) transferred ({created} new); the originals in your "
        "BSS are now managed by the reseller and billed to it."
    )


def activate_back_ordering(ctx: StepContext) -> str:
    """The last step of the upgrade: back-ordering on, then the reseller's earlier sales in
    its own BSS propagated (the transferred subscriptions are already the distributor's)."""
    from webapp.services.processes import activation_steps

    switched = activation_steps.switch_on(ctx)
    return f"{switched} {activation_steps.propagate_earlier_sales(ctx)}"


UPGRADE_STEPS = [
    Step("copy_lite_customers", "Copy customers", copy_customers),
    Step("transfer_subscriptions", "Transfer Subscriptions", transfer_subscriptions),
    Step("activate_back_ordering", "Activate back ordering", activate_back_ordering),
]
