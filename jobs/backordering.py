"""Propagating the reseller's subscription events to the distributor's BSS, exactly once.

An event may be delivered twice (two enqueues, a retry after a worker died halfway); each
application is one transaction guarded by unique keys — the distributor's order remembers
the event's idempotency key, the copied account and subscription their sources — so a
second delivery finds the work done and only marks the event Processed. Events of one
subscription are applied in order: a job applies every pending event of that subscription,
oldest first, and stops at the first that fails."""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jobs import chaos
from jobs.connection import RedisNotConfigured, get_queue, get_redis
from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    Order,
    OrderLine,
    PriceListItem,
    Product,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    utcnow,
)

log = logging.getLogger(__name__)

ORDER_KIND = {
    "subscription.created": "New",
    "subscription.updated": "Change",
    "subscription.cancelled": "Cancellation",
}


class PropagationError(Exception):
    """A reason a person can act on (kept on the event, shown with a Retry button)."""


def enqueue_subscription(subscription_id: int, event_id: int, now: bool = False) -> None:
    """Best effort: the reaper re-enqueues Pending events if the queue is down now."""
    job_id = f"backorder-event-{event_id}"
    try:
        _forget_dead_job(job_id, also_waiting=now)
        get_queue().enqueue(
            propagate_subscription,
            subscription_id,
            job_id=job_id,
            unique=True,
            retry=Retry(max=3, interval=[5, 30, 120]),
            description=f"Back-ordering of subscription {subscription_id} (event {event_id})",
        )
    except DuplicateJobError:
        pass
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.warning("event %s stays Pending: %s", event_id, exc)


def _forget_dead_job(job_id: str, also_waiting: bool = False) -> None:
    """A finished, failed or orphaned job with this id would block a new one (unique ids);
    a staff Retry also replaces a retry that RQ scheduled for later."""
    from jobs.reaper import job_is_live

    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return
    waiting = also_waiting and job.get_status(refresh=False) != JobStatus.STARTED
    if waiting or not job_is_live(job_id):
        job.delete()


def propagate_subscription(subscription_id: int) -> str:
    """RQ entry point: apply this subscription's pending events, oldest first."""
    if not has_app_context():
        from webapp import create_app

        with create_app().app_context():
            return propagate_subscription(subscription_id)
    with current_app.app_context():
        try:
            return _propagate(subscription_id)
        finally:
            db.session.remove()


def _propagate(subscription_id: int) -> str:
    applied = 0
    events = db.session.scalars(
        select(DomainEvent)
        .where(
            DomainEvent.subscription_id == subscription_id,
            DomainEvent.status.in_(["Pending", "Failed"]),
        )
        .order_by(DomainEvent.id)
    ).all()
    for event in events:
        try:
            apply_event(event.id)
        except PropagationError as exc:
            _mark_failed(event.id, str(exc))
            raise
        except Exception as exc:
            log.exception("back-ordering event %s failed", event.id)
            _mark_failed(event.id, f"Unexpected error ({type(exc).__name__}); see the worker log.")
            raise
        applied += 1
    return f"{applied} event(s) applied"


def _mark_failed(event_id: int, message: str) -> None:
    db.session.rollback()
    event = db.session.get(DomainEvent, event_id)
    event.status = "Failed"
    event.attempts += 1
    event.last_error = message[:400]
    db.session.commit()


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
    name, n = f"{source.name} ({reseller.name})", 2
    while db.session.scalar(Account.in_org(tenant.organization_id).where(Account.name == name)):
        name, n = f"{source.name} ({reseller.name}, {n})", n + 1
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
    """Staff Retry of a Failed event: Pending again, and queued."""
    event.status = "Pending"
    db.session.commit()
    enqueue_subscription(event.subscription_id, event.id, now=True)
