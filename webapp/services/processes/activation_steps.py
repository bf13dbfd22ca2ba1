"""Activating back-ordering: check, copy customers down, switch it on, then propagate what
the reseller sold before activation, so that every paid subscription reaches the distributor.

Switching on comes before propagating: from that moment new sales are propagated as they
happen, and the earlier ones are applied here; both go through the same state-based apply
(services/backordering.py), so a sale is billed once whichever path reaches it first."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import DomainEvent
from webapp.services import backordering
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step

CHECKPOINT_EVERY = 50


def _tenant(ctx: StepContext):
    tenant = ctx.tenant
    if tenant is None or tenant.tenant_organization_id is None:
        raise StepFailure("The tenant reseller or its organization no longer exists.")
    return tenant


def check_back_ordering(ctx: StepContext) -> str:
    """The pre-execution check, again: the reseller's BSS must have every subscription its
    customers have in yours."""
    tenant = _tenant(ctx)
    if tenant.back_ordering_active:
        return "Back-ordering was already active."
    check = backordering.precheck(tenant)
    if not check.ready:
        raise StepFailure(backordering.refusal(tenant) + " Then retry the process.")
    sales = len(check.earlier_sales)
    return f"Ready. {sales} earlier sale(s) of the reseller will be propagated."


def copy_customers_down(ctx: StepContext) -> str:
    """Customers of the reseller in your BSS without subscriptions, copied to its BSS."""
    tenant = _tenant(ctx)
    accounts = backordering.precheck(tenant).accounts_to_copy_down
    for done, account in enumerate(accounts, start=1):
        backordering.copy_account_down(tenant, account)
        ctx.progress(done, len(accounts))
    return f"{len(accounts)} customer(s) copied to the reseller's BSS."


def switch_on(ctx: StepContext) -> str:
    """Back-ordering on, for good: from now on each sale is propagated as it happens."""
    tenant = _tenant(ctx)
    process = ctx.process
    actor = None
    if process.created_by_id is not None:
        from webapp.models import User

        actor = db.session.get(User, process.created_by_id)
    if not backordering.switch_on(tenant, actor):
        return "Back-ordering was already on."
    return "Back-ordering is on."


def propagate_earlier_sales(ctx: StepContext) -> str:
    """Every event held while back-ordering was off is applied, oldest first per
    subscription: New orders, copied customers and subscriptions in your BSS."""
    tenant = _tenant(ctx)
    backordering.release_held(tenant)
    ctx.commit()
    subscription_ids = db.session.scalars(
        select(DomainEvent.subscription_id)
        .where(
            DomainEvent.organization_id == tenant.tenant_organization_id,
            DomainEvent.status.in_(["Pending", "Failed"]),
        )
        .group_by(DomainEvent.subscription_id)
        .order_by(DomainEvent.subscription_id)
    ).all()
    failed = 0
    for done, subscription_id in enumerate(subscription_ids, start=1):
        try:
            backordering.propagate(subscription_id)
        except backordering.PropagationError:
            failed += 1  # marked Failed with its reason, shown with a Retry, people told
        ctx.progress(done, len(subscription_ids))
        if done % CHECKPOINT_EVERY == 0:
            ctx.checkpoint()
    message = f"{len(subscription_ids) - failed} subscription(s) propagated to your BSS."
    if failed:
        message += f" {failed} could not be: see the Back Ordering tab, fix what it says and Retry."
    return message


ACTIVATION_STEPS = [
    Step("check_back_ordering", "Check prerequisites", check_back_ordering),
    Step("copy_customers_down", "Copy customers to the reseller's BSS", copy_customers_down),
    Step("switch_on_back_ordering", "Switch back ordering on", switch_on),
    Step("propagate_earlier_sales", "Propagate earlier sales", propagate_earlier_sales),
]
