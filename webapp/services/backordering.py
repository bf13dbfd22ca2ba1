"""Back-ordering: what the distributor bills its tenant reseller for.

Activation is irreversible, so a pre-execution check runs first: every subscription of the
reseller's customers in the distributor's BSS must already exist in the reseller's BSS, and
customers without subscriptions that are missing there are copied down first. Once active,
each paid subscription change in the reseller's BSS is applied in the distributor's BSS
exactly once (propagation, below; jobs/backordering.py is its RQ entry point)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    Order,
    OrderLine,
    Organization,
    PriceListItem,
    Product,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit
from webapp.services.processes import chaos

log = logging.getLogger(__name__)


class BackOrderingRefused(Exception):
    """Why activation cannot happen now, in words for the staff member."""


@dataclass
class Precheck:
    missing_subscriptions: list[Subscription] = field(default_factory=list)
    accounts_to_copy_down: list[Account] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing_subscriptions


def sub_customers(tenant: TenantReseller) -> list[Account]:
    """The reseller's customers in the distributor's BSS."""
    return db.session.scalars(
        Account.in_org(tenant.organization_id)
        .where(Account.parent_account_id == tenant.account_id)
        .order_by(Account.name)
    ).all()


def _tenant_has_account(tenant: TenantReseller, source: Account) -> bool:
    return bool(
        db.session.scalar(
            select(Account.id).where(
                Account.organization_id == tenant.tenant_organization_id,
                Account.source_account_id == source.id,
            )
        )
    )


def precheck(tenant: TenantReseller) -> Precheck:
    """What activation would find: subscriptions not copied down, accounts to copy down."""
    result = Precheck()
    for customer in sub_customers(tenant):
        subscriptions = db.session.scalars(
            Subscription.in_org(tenant.organization_id).where(
                Subscription.account_id == customer.id,
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        ).all()
        for sub in subscriptions:
            copied = db.session.scalar(
                select(
                    exists().where(
                        Subscription.organization_id == tenant.tenant_organization_id,
                        Subscription.source_subscription_id == sub.id,
                    )
                )
            )
            if not copied:
                result.missing_subscriptions.append(sub)
        if not subscriptions and not _tenant_has_account(tenant, customer):
            result.accounts_to_copy_down.append(customer)
    return result


def copy_account_down(tenant: TenantReseller, source: Account) -> Account:
    """The distributor's customer of this reseller, in the reseller's BSS (once)."""
    existing = db.session.scalar(
        Account.in_org(tenant.tenant_organization_id).where(Account.source_account_id == source.id)
    )
    if existing is not None:
        return existing
    name, n = source.name, 2
    while db.session.scalar(
        Account.in_org(tenant.tenant_organization_id).where(Account.name == name)
    ):
        name, n = f"{source.name} ({n})", n + 1
    org = db.session.get(Organization, tenant.tenant_organization_id)
    copy = Account(
        organization_id=org.id,
        name=name,
        email=source.email,
        enabled_for_ordering=True,
        billing_currency=org.currency,
        source_account_id=source.id,
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def activate(tenant: TenantReseller, actor: User | None) -> list[Account]:
    """Activate back-ordering (irreversible); returns the accounts copied down first."""
    if tenant.back_ordering_active:
        raise BackOrderingRefused("Back-ordering is already active for this tenant reseller.")
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        raise BackOrderingRefused(
            f"The tenant reseller is {tenant.status}; back-ordering can be activated once it "
            "is Active."
        )
    check = precheck(tenant)
    if check.missing_subscriptions:
        names = ", ".join(
            f"{s.account.name}: {s.product.name}" for s in check.missing_subscriptions[:10]
        )
        raise BackOrderingRefused(
            f"{len(check.missing_subscriptions)} subscription(s) of this reseller's customers "
            f"in your BSS are not in the reseller's BSS yet ({names}). Copy them down first "
            "(for a lite reseller: Upgrade from lite reseller), then activate."
        )
    copied = [copy_account_down(tenant, account) for account in check.accounts_to_copy_down]
    tenant.back_ordering_active = True
    tenant.back_ordering_activated_at = utcnow()
    account = db.session.get(Account, tenant.account_id)
    was_lite = account.is_lite_reseller
    account.is_lite_reseller = False
    account.is_reseller = True
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.back_ordering_activated",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary=(
            "Back Ordering activated"
            + (f"; {len(copied)} account(s) copied down first" if copied else "")
            + ("; no longer a lite reseller" if was_lite else "")
        ),
        before={"back_ordering_active": False, "lite_reseller": was_lite},
        after={"back_ordering_active": True, "lite_reseller": False},
    )
    db.session.commit()
    return copied


# --- Propagation: the reseller's subscription events reach the distributor's BSS -------------
#
# An event may be delivered twice (two enqueues, a retry after a worker died halfway); each
# application is one transaction guarded by unique keys — the distributor's order remembers
# the event's idempotency key, the copied account and subscription their sources — so a
# second delivery finds the work done and only marks the event Processed. Events of one
# subscription are applied in order: a job applies every pending event of that subscription,
# oldest first, and stops at the first that fails.

ORDER_KIND = {
    "subscription.created": "New",
    "subscription.updated": "Change",
    "subscription.cancelled": "Cancellation",
}


class PropagationError(Exception):
    """A reason a person can act on (kept on the event, shown with a Retry button)."""


def propagate(subscription_id: int) -> str:
    """Apply this subscription's pending (or failed) events, oldest first; stop at the first
    that fails, which is then marked Failed (in a transaction of its own) and re-raised so
    that the job is retried."""
    applied = 0
    # Ids, not rows: after a refused statement the session's rows cannot be read any more,
    # and the failure path must still know which event failed.
    event_ids = db.session.scalars(
        select(DomainEvent.id)
        .where(
            DomainEvent.subscription_id == subscription_id,
            DomainEvent.status.in_(["Pending", "Failed"]),
        )
        .order_by(DomainEvent.id)
    ).all()
    for event_id in event_ids:
        try:
            apply_event(event_id)
        except PropagationError as exc:
            _mark_failed(event_id, str(exc))
            raise
        except Exception as exc:
            log.exception("back-ordering event %s failed", event_id)
            _mark_failed(event_id, f"Unexpected error ({type(exc).__name__}); see the worker log.")
            raise
        applied += 1
    return f"{applied} event(s) applied"


def _mark_failed(event_id: int, message: str) -> None:
    """Record the failure in a session of its own: whatever state the failed apply left
    the main session in (a refused statement on PostgreSQL aborts its transaction), the
    Failed state is committed, so the event is shown with its reason and a Retry."""
    db.session.rollback()
    with Session(db.engine) as session:
        session.execute(
            update(DomainEvent)
            .where(DomainEvent.id == event_id)
            .values(
                status="Failed",
                attempts=DomainEvent.attempts + 1,
                last_error=message[:400],
            )
        )
        session.commit()


def apply_event(event_id: int) -> None:
    """Apply one event in one transaction; a second delivery changes nothing."""
    event = db.session.get(DomainEvent, event_id)
    if event.status == "Processed":
        return
    try:
        _apply(event)
        event.status = "Processed"
        event.processed_at = utcnow()
        event.last_error = ""
        chaos.point("backorder:before-commit")
        db.session.commit()
    except IntegrityError:
        # Another delivery of the same event won the race: its work is committed.
        db.session.rollback()
        event = db.session.get(DomainEvent, event_id)
        if _order_for(event) is None:
            raise
        event.status = "Processed"
        event.processed_at = utcnow()
        db.session.commit()


def _order_for(event: DomainEvent) -> Order | None:
    return db.session.scalar(select(Order).where(Order.source_event_key == event.idempotency_key))


def _apply(event: DomainEvent) -> None:
    tenant = db.session.scalar(
        select(TenantReseller).where(TenantReseller.tenant_organization_id == event.organization_id)
    )
    if tenant is None or not tenant.back_ordering_active:
        raise PropagationError("Back-ordering is not active for this tenant reseller.")
    if _order_for(event) is not None:
        return  # delivered before: the order exists, nothing more to do
    reseller = db.session.get(Account, tenant.account_id)
    source = db.session.get(Subscription, event.subscription_id)
    product = db.session.get(Product, source.product_id)
    if product.source_product_id is None:
        raise PropagationError(
            f"{product.name} is the reseller's own product; it is not billed by you."
        )
    price = db.session.scalar(
        select(PriceListItem.retail_price).where(
            PriceListItem.price_list_id == tenant.price_list_id,
            PriceListItem.product_id == product.source_product_id,
        )
    )
    if price is None:
        raise PropagationError(
            f"{product.name} is no longer in the reseller's price list; add it back or "
            "update the tenant, then retry."
        )
    customer = _copy_account_up(tenant, reseller, source.account)
    upstream = _upstream_subscription(tenant, source, customer, price, reseller)
    previous_quantity = upstream.quantity if upstream.id else 0
    upstream.quantity = event.payload["quantity"]
    upstream.status = event.payload["status"]
    upstream.unit_price = price
    if upstream.id is None:
        db.session.add(upstream)
    db.session.flush()
    if source.upstream_subscription_id is None and source.source_subscription_id is None:
        source.upstream_subscription_id = upstream.id
    kind = ORDER_KIND.get(event.kind, "Change")
    delta = upstream.quantity - previous_quantity
    if kind == "Cancellation":
        delta = -previous_quantity
    order = Order(
        organization_id=tenant.organization_id,
        number="BO-" + secrets.token_hex(4).upper(),
        account_id=customer.id,
        kind=kind,
        currency=reseller.billing_currency,
        total=(price * delta) if kind != "Cancellation" else Decimal(0),
        managed_by_reseller=True,
        source_event_key=event.idempotency_key,
    )
    order.lines.append(
        OrderLine(
            product_id=upstream.product_id,
            subscription_id=upstream.id,
            quantity=delta,
            unit_price=price,
        )
    )
    db.session.add(order)
    db.session.flush()


def _copy_account_up(tenant: TenantReseller, reseller: Account, source: Account) -> Account:
    """The reseller's end customer as a sub-customer of the reseller's account (once).

    A customer that came down from the distributor goes back to its own account."""
    if source.source_account_id is not None:
        original = db.session.get(Account, source.source_account_id)
        if original is not None and original.organization_id == tenant.organization_id:
            return original
    existing = db.session.scalar(
        Account.in_org(tenant.organization_id).where(Account.source_account_id == source.id)
    )
    if existing is not None:
        return existing
    name, n = copied_name(source.name, reseller.name), 2
    while db.session.scalar(Account.in_org(tenant.organization_id).where(Account.name == name)):
        name, n = copied_name(source.name, f"{reseller.name}, {n}"), n + 1
    copy = Account(
        organization_id=tenant.organization_id,
        name=name,
        email=source.email,
        parent_account_id=reseller.id,
        managed_by_reseller=True,
        enabled_for_ordering=True,
        billing_currency=reseller.billing_currency,
        # The tenant's setting at the moment of the copy; later changes affect later copies.
        separate_invoices=tenant.separate_invoices,
        source_account_id=source.id,
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def _upstream_subscription(tenant, source: Subscription, customer: Account, price, reseller):
    """The distributor's copy of the subscription (existing, or new and not yet added)."""
    if source.source_subscription_id is not None:
        original = db.session.get(Subscription, source.source_subscription_id)
        if original is not None and original.organization_id == tenant.organization_id:
            return original
    existing = db.session.scalar(
        Subscription.in_org(tenant.organization_id).where(
            Subscription.source_subscription_id == source.id
        )
    )
    if existing is not None:
        return existing
    product = db.session.get(Product, source.product_id)
    return Subscription(
        organization_id=tenant.organization_id,
        account_id=customer.id,
        product_id=product.source_product_id,
        quantity=0,
        billing_period=source.billing_period,
        unit_price=price,
        currency=reseller.billing_currency,
        status=SubscriptionStatus.ACTIVE,
        managed_by_reseller=True,
        source_subscription_id=source.id,
    )


def retry_event(event: DomainEvent) -> None:
    """Staff Retry of an event that is not Processed: Pending again, and queued now."""
    from jobs.queueing import enqueue_event

    event.status = "Pending"
    db.session.commit()
    enqueue_event(event.subscription_id, event.id, now=True)


def copied_name(name: str, reseller: str) -> str:
    """ "Name (Reseller)" for the distributor's copy of an end customer, shortened so that it
    always fits the account name column, however long the two names are."""
    limit = Account.name.type.length
    suffix = f" ({reseller})"
    if len(suffix) > limit // 2:
        suffix = f" ({reseller[: limit // 2 - 4]}…)"
    if len(name) + len(suffix) > limit:
        name = name[: limit - len(suffix) - 1] + "…"
    return name + suffix
