"""Back-ordering: what the distributor bills its tenant reseller for.

Activation is irreversible, so a pre-execution check runs first: every subscription of the
reseller's customers in the distributor's BSS must already exist in the reseller's BSS, and
customers without subscriptions that are missing there are copied down first. Activation is
a queued process (services/processes/activation_steps.py): it also propagates what the
reseller sold before it, so that nothing sold is left unbilled. Once active, each paid
subscription change in the reseller's BSS is applied in the distributor's BSS exactly once
(propagation, below; jobs/backordering.py is its RQ entry point)."""

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
    Notification,
    Order,
    OrderLine,
    Organization,
    OutboxEmail,
    PriceListItem,
    Product,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    TenantStatus,
    User,
    utcnow,
)
from webapp.services import audit, mail
from webapp.services.processes import ProcessKind, ProcessRefused, chaos, lifecycle

log = logging.getLogger(__name__)


HELD = "Held"  # an event recorded while back-ordering is off: propagated at activation

# Refusals, like every refusal of a process, say why and what to do.
BackOrderingRefused = ProcessRefused


@dataclass
class Precheck:
    missing_subscriptions: list[Subscription] = field(default_factory=list)
    accounts_to_copy_down: list[Account] = field(default_factory=list)
    # The reseller's paid subscriptions that the distributor does not have yet (sold before
    # activation): activation propagates them, so that they are billed.
    earlier_sales: list[Subscription] = field(default_factory=list)

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


def earlier_sales(tenant: TenantReseller) -> list[Subscription]:
    """The tenant's subscriptions with events held while back-ordering was off."""
    if tenant.tenant_organization_id is None:
        return []
    held = select(DomainEvent.subscription_id).where(
        DomainEvent.organization_id == tenant.tenant_organization_id, DomainEvent.status == HELD
    )
    return db.session.scalars(
        Subscription.in_org(tenant.tenant_organization_id)
        .where(Subscription.id.in_(held))
        .order_by(Subscription.id)
    ).all()


def precheck(tenant: TenantReseller) -> Precheck:
    """What activation would find: subscriptions not copied down, accounts to copy down, and
    the reseller's earlier sales it will propagate."""
    result = Precheck(earlier_sales=earlier_sales(tenant))
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
    limit = Account.name.type.length
    name, n = source.name[:limit], 2
    while db.session.scalar(
        Account.in_org(tenant.tenant_organization_id).where(Account.name == name)
    ):
        # "Name (n)", shortened to fit the column (a 200-character name overflowed it).
        suffix = f" ({n})"
        name, n = source.name[: limit - len(suffix)] + suffix, n + 1
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


def refusal(tenant: TenantReseller) -> str:
    """Why activation cannot start now ("" when it can)."""
    if tenant.back_ordering_active:
        return "Back-ordering is already active for this tenant reseller."
    if tenant.status != TenantStatus.ACTIVE or tenant.tenant_organization_id is None:
        return (
            f"The tenant reseller is {tenant.status}; back-ordering can be activated once it "
            "is Active."
        )
    check = precheck(tenant)
    if check.missing_subscriptions:
        names = ", ".join(
            f"{s.account.name}: {s.product.name}" for s in check.missing_subscriptions[:10]
        )
        return (
            f"{len(check.missing_subscriptions)} subscription(s) of this reseller's customers "
            f"in your BSS are not in the reseller's BSS yet ({names}). Copy them down first "
            "(for a lite reseller: Upgrade from lite reseller), then activate."
        )
    return ""


def start_activation(tenant: TenantReseller, actor: User | None):
    """Queue the activation (irreversible; the caller has the person's confirmation): copy
    customers down, switch back-ordering on, propagate the earlier sales."""
    from webapp.services.processes.activation_steps import ACTIVATION_STEPS

    if reason := refusal(tenant):
        raise BackOrderingRefused(reason)
    account = db.session.get(Account, tenant.account_id)
    process = lifecycle.prepare(
        ProcessKind.BACK_ORDERING_ACTIVATION,
        organization_id=tenant.organization_id,
        name=f"Activate Back Ordering — {account.name}",
        steps=ACTIVATION_STEPS,
        actor=actor,
        tenant=tenant,
    )
    audit.record(
        organization_id=tenant.organization_id,
        actor=actor,
        action="tenant_reseller.back_ordering_requested",
        entity_type="tenant_reseller",
        entity_id=tenant.id,
        summary="Back Ordering activation requested (confirmed: it cannot be undone)",
        process_id=process.id,
    )
    return lifecycle.start(process)


def switch_on(tenant: TenantReseller, actor: User | None = None) -> bool:
    """Back-ordering on, for good; the account is no longer a lite reseller. False when it
    already was on (a re-run of the step)."""
    if tenant.back_ordering_active:
        return False
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
        summary="Back Ordering activated" + ("; no longer a lite reseller" if was_lite else ""),
        before={"back_ordering_active": False, "lite_reseller": was_lite},
        after={"back_ordering_active": True, "lite_reseller": False},
    )
    return True


def release_held(tenant: TenantReseller) -> int:
    """The events held while back-ordering was off become Pending (to be applied in order)."""
    return db.session.execute(
        update(DomainEvent)
        .where(
            DomainEvent.organization_id == tenant.tenant_organization_id,
            DomainEvent.status == HELD,
        )
        .values(status="Pending")
    ).rowcount


# --- Propagation: the reseller's subscription events reach the distributor's BSS -------------
#
# An event may be delivered twice (two enqueues, a retry after a worker died halfway); each
# application is one transaction guarded by unique keys — the distributor's order remembers
# the event's idempotency key, the copied account and subscription their sources — so a
# second delivery finds the work done and only marks the event Processed. Events of one
# subscription are applied in order: a job applies every pending event of that subscription,
# oldest first, and stops at the first that fails.


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
    Failed state is committed, so the event is shown with its reason and a Retry. The first
    failure of an event tells the distributor's and the reseller's administrators."""
    db.session.rollback()
    emails = []
    with Session(db.engine) as session:
        event = session.get(DomainEvent, event_id)
        first_failure = event.status != "Failed"
        session.execute(
            update(DomainEvent)
            .where(DomainEvent.id == event_id)
            .values(
                status="Failed",
                attempts=DomainEvent.attempts + 1,
                last_error=message[:400],
            )
        )
        if first_failure:
            emails = _tell_admins_of_failure(session, event, message)
        session.commit()
        email_ids = [e.id for e in emails]
    mail.deliver(email_ids)


def _tell_admins_of_failure(session: Session, event: DomainEvent, message: str) -> list:
    tenant = session.scalar(
        select(TenantReseller).where(TenantReseller.tenant_organization_id == event.organization_id)
    )
    if tenant is None:
        return []
    account = session.get(Account, tenant.account_id)
    order = event.payload.get("order_number", "")
    emails = []
    texts = {
        tenant.organization_id: (
            f"Back ordering of {account.name}'s order {order} failed: {message} Fix what it "
            "says, then Retry the event on the tenant reseller's Back Ordering tab."
        ),
        tenant.tenant_organization_id: (
            f"Your order {order} could not be passed on to your distributor yet: {message} "
            "Your distributor has been told and retries it; nothing is lost."
        ),
    }
    for org_id, text in texts.items():
        admins = session.scalars(
            select(User).where(
                User.organization_id == org_id, User.role == "admin", User.active.is_(True)
            )
        ).all()
        for admin in admins:
            session.add(
                Notification(
                    organization_id=org_id, user_id=admin.id, level="error", message=text[:400]
                )
            )
            if admin.email:
                email = OutboxEmail(
                    organization_id=org_id,
                    to_address=admin.email,
                    subject=f"[Tenant Reseller BSS] Back ordering failed: {account.name}"[:200],
                    body=text + "\n",
                )
                session.add(email)
                emails.append(email)
    session.flush()
    return emails


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


def _order_for(event: DomainEvent) -> OrderLine | None:
    """The distributor's order line this event made, if it was applied before."""
    return db.session.scalar(
        select(OrderLine).where(OrderLine.source_event_key == event.idempotency_key)
    )


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
    # What the distributor billed before this event and what it bills after: the order is the
    # difference. The first event the distributor hears of a subscription is its New order,
    # whatever the reseller did before (a sale made before activation, then changed).
    new_copy = upstream.id is None
    old_price = upstream.unit_price
    before = 0 if new_copy or upstream.status != SubscriptionStatus.ACTIVE else upstream.quantity
    quantity, status = event.payload["quantity"], event.payload["status"]
    after = quantity if status == SubscriptionStatus.ACTIVE else 0
    upstream.quantity = quantity
    upstream.status = status
    upstream.unit_price = price
    if new_copy:
        db.session.add(upstream)
    db.session.flush()
    if source.upstream_subscription_id is None and source.source_subscription_id is None:
        source.upstream_subscription_id = upstream.id
    if new_copy:
        kind, delta = "New", after
    elif after == 0 and before > 0:
        kind, delta = "Cancellation", -before
    else:
        kind, delta = "Change", after - before
    if delta == 0 and not new_copy and price == old_price:
        return  # nothing changed for the distributor (a second report of the same state)
    # A copy made late (a repair) is billed from when the reseller sold it.
    effective = min(event.created_at, source.created_at) if new_copy else event.created_at
    order = _distributor_order(tenant, event, customer, reseller, effective)
    if order.lines and order.kind != kind:
        order.kind = "Change"  # one reseller order whose lines mean different things here
    elif not order.lines:
        order.kind = kind
    order.lines.append(
        OrderLine(
            product_id=upstream.product_id,
            subscription_id=upstream.id,
            quantity=delta,
            unit_price=price,
            source_event_key=event.idempotency_key,
        )
    )
    order.total = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    db.session.flush()


def _distributor_order(
    tenant: TenantReseller, event: DomainEvent, customer: Account, reseller: Account, effective
) -> Order:
    """The distributor's order for the reseller's order this event belongs to: one order
    with a line per subscription, made by whichever event gets there first."""
    key = f"{event.organization_id}:{event.payload.get('order_number', event.idempotency_key)}"
    order = db.session.scalar(select(Order).where(Order.source_order_key == key))
    if order is not None:
        return order
    try:
        with db.session.begin_nested():  # another event of the same order may insert it too
            order = Order(
                organization_id=tenant.organization_id,
                number="BO-" + secrets.token_hex(4).upper(),
                account_id=customer.id,
                kind="New",
                currency=reseller.billing_currency,
                total=Decimal(0),
                managed_by_reseller=True,
                source_order_key=key,
                effective_at=effective,
            )
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        order = db.session.scalar(select(Order).where(Order.source_order_key == key))
    return order


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
