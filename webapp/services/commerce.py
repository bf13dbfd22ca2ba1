"""End customers' orders and subscriptions in a tenant's BSS, each change recorded as a
domain event in the same transaction (back-ordering propagates them to the distributor)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    Order,
    OrderLine,
    Organization,
    PriceList,
    PriceListItem,
    Product,
    StoreCustomer,
    Storefront,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
)
from webapp.services.passwords import hash_password, verify_password

MAX_QUANTITY = 10_000


class CommerceError(ValueError):
    """Something the customer can fix; the message says what."""


def storefront_price_list(storefront: Storefront) -> PriceList | None:
    """The list whose prices the storefront shows: its chosen one, else the tenant's first
    active list in the tenant's currency, else its first active list."""
    if storefront.price_list_id:
        chosen = db.session.get(PriceList, storefront.price_list_id)
        if chosen and chosen.organization_id == storefront.organization_id and chosen.active:
            return chosen
    org = db.session.get(Organization, storefront.organization_id)
    priced = priced_list_in(org.id, org.currency)
    if priced is not None:  # an empty list in the currency must not hide a priced one
        return priced
    lists = db.session.scalars(
        PriceList.in_org(org.id).where(PriceList.active.is_(True)).order_by(PriceList.id)
    ).all()
    same_currency = [pl for pl in lists if pl.currency == org.currency]
    return (same_currency or lists or [None])[0]


def priced_list_in(organization_id: int, currency: str) -> PriceList | None:
    """The first active list in this currency with at least one price: one the storefront
    can sell from."""
    return db.session.scalar(
        PriceList.in_org(organization_id)
        .where(
            PriceList.currency == currency,
            PriceList.active.is_(True),
            select(PriceListItem.id).where(PriceListItem.price_list_id == PriceList.id).exists(),
        )
        .order_by(PriceList.id)
        .limit(1)
    )


def price_of(price_list: PriceList, product_id: int) -> Decimal | None:
    return db.session.scalar(
        select(PriceListItem.retail_price).where(
            PriceListItem.price_list_id == price_list.id, PriceListItem.product_id == product_id
        )
    )


EMAIL_TAKEN = "An account with this email already exists. Sign in instead."
SIGN_UP_ATTEMPTS = 5


def numbered_name(base: str, n: int, limit: int) -> str:
    """`base`, or "base (n)" from n = 2, shortened to fit a column of `limit` characters."""
    if n < 2:
        return base[:limit]
    suffix = f" ({n})"
    return base[: limit - len(suffix)] + suffix


def sign_up(org_id: int, name: str, email: str, password: str, currency: str) -> StoreCustomer:
    """A new end customer: an Account in the tenant's BSS, enabled for ordering.

    The unique keys (store, email) and (organization, account name) decide between
    simultaneous sign-ups: the loser of an email race is told the account exists, the loser of
    a name race takes the next free "Name (n)"."""
    email = email.strip().lower()
    base_name = name.strip()
    limit = Account.name.type.length
    password_hash = hash_password(password)
    for _attempt in range(SIGN_UP_ATTEMPTS):
        if db.session.scalar(
            select(StoreCustomer.id).where(
                StoreCustomer.organization_id == org_id, StoreCustomer.email == email
            )
        ):
            raise CommerceError(EMAIL_TAKEN)
        n = 1
        account_name = numbered_name(base_name, n, limit)
        while db.session.scalar(
            select(Account.id).where(
                Account.organization_id == org_id, Account.name == account_name
            )
        ):
            n += 1
            account_name = numbered_name(base_name, n, limit)
        account = Account(
            organization_id=org_id,
            name=account_name,
            email=email,
            enabled_for_ordering=True,
            billing_currency=currency,
        )
        try:
            db.session.add(account)
            db.session.flush()
            customer = StoreCustomer(
                organization_id=org_id,
                account_id=account.id,
                email=email,
                password_hash=password_hash,
            )
            db.session.add(customer)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # someone signed up at the same moment: look again
            continue
        return customer
    raise CommerceError("Your account could not be created just now. Please try again.")


def authenticate(org_id: int, email: str, password: str) -> StoreCustomer | None:
    customer = db.session.scalar(
        select(StoreCustomer).where(
            StoreCustomer.organization_id == org_id,
            StoreCustomer.email == email.strip().lower(),
        )
    )
    ok = verify_password(customer.password_hash if customer else None, password)
    return customer if customer and ok else None


@dataclass
class CartLine:
    product: Product
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


def cart_lines(org_id: int, price_list: PriceList, cart: dict[str, int]) -> list[CartLine]:
    """The cart's products that still exist, are still sold and have a price, with that
    price (a product discontinued since it went into the cart drops out of it)."""
    lines = []
    for product_id, quantity in cart.items():
        product = db.session.get(Product, int(product_id))
        if product is None or product.organization_id != org_id or product.discontinued:
            continue
        price = price_of(price_list, product.id)
        if price is None:
            continue
        lines.append(CartLine(product, int(quantity), price))
    return lines


def _order_number() -> str:
    return "SO-" + secrets.token_hex(4).upper()


def _back_ordering_active(org_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(TenantReseller.back_ordering_active).where(
                TenantReseller.tenant_organization_id == org_id
            )
        )
    )


def _event(sub: Subscription, kind: str, order: Order) -> None:
    """Record a domain event for a paid subscription; the key makes its delivery idempotent.

    While back-ordering is off (the reseller is setting up) events are held: activating
    back-ordering propagates them, so that what was sold before is billed too."""
    if not sub.paid:
        return
    active = _back_ordering_active(sub.organization_id)
    db.session.add(
        DomainEvent(
            organization_id=sub.organization_id,
            status="Pending" if active else "Held",
            kind=kind,
            idempotency_key=f"{kind}:{sub.id}:{order.number}",
            subscription_id=sub.id,
            payload={
                "subscription_id": sub.id,
                "account_id": sub.account_id,
                "product_id": sub.product_id,
                "quantity": sub.quantity,
                "unit_price": str(sub.unit_price),
                "currency": sub.currency,
                "status": sub.status,
                "order_number": order.number,
            },
        )
    )


def _propagate_after_commit(subscription_ids: list[int]) -> None:
    """Commit, then enqueue: the job must find the committed events."""
    from jobs.queueing import enqueue_event

    for subscription_id in subscription_ids:
        pending = db.session.scalar(
            select(DomainEvent.id)
            .where(DomainEvent.subscription_id == subscription_id, DomainEvent.status == "Pending")
            .order_by(DomainEvent.id.desc())
            .limit(1)
        )
        if pending is not None:
            enqueue_event(subscription_id, pending)


def place_order(account: Account, price_list: PriceList, lines: list[CartLine]) -> Order:
    """One order; a subscription per line at the price of this moment; events for paid ones."""
    if not lines:
        raise CommerceError("Your cart is empty.")
    if not account.enabled_for_ordering:
        raise CommerceError("This account is not enabled for ordering. Contact the store.")
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise CommerceError(f"Choose a quantity from 1 to {MAX_QUANTITY:,}.")
        if line.product.discontinued:
            raise CommerceError(f"{line.product.name} is no longer sold.")
    order = Order(
        organization_id=account.organization_id,
        number=_order_number(),
        account_id=account.id,
        kind="New",
        currency=price_list.currency,
        total=sum((line.total for line in lines), Decimal(0)),
    )
    db.session.add(order)
    for line in lines:
        sub = Subscription(
            organization_id=account.organization_id,
            account_id=account.id,
            product_id=line.product.id,
            quantity=line.quantity,
            billing_period=line.product.billing_period,
            unit_price=line.unit_price,
            currency=price_list.currency,
        )
        db.session.add(sub)
        db.session.flush()
        order.lines.append(
            OrderLine(
                product_id=line.product.id,
                subscription_id=sub.id,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
        )
        _event(sub, "subscription.created", order)
    db.session.commit()
    _propagate_after_commit([line.subscription_id for line in order.lines])
    return order


def change_quantity(sub: Subscription, quantity: int) -> Order:
    """A quantity change is an order of its own and updates the subscription."""
    if sub.status != SubscriptionStatus.ACTIVE:
        raise CommerceError("This subscription is cancelled.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CommerceError(f"Choose a quantity from 1 to {MAX_QUANTITY:,}.")
    if quantity == sub.quantity:
        raise CommerceError("That is already the quantity.")
    delta = quantity - sub.quantity
    order = Order(
        organization_id=sub.organization_id,
        number=_order_number(),
        account_id=sub.account_id,
        kind="Change",
        currency=sub.currency,
        total=sub.unit_price * delta,
    )
    order.lines.append(
        OrderLine(
            product_id=sub.product_id,
            subscription_id=sub.id,
            quantity=delta,
            unit_price=sub.unit_price,
        )
    )
    db.session.add(order)
    sub.quantity = quantity
    db.session.flush()
    _event(sub, "subscription.updated", order)
    db.session.commit()
    _propagate_after_commit([sub.id])
    return order


def cancel(sub: Subscription) -> Order:
    if sub.status != SubscriptionStatus.ACTIVE:
        raise CommerceError("This subscription is already cancelled.")
    order = Order(
        organization_id=sub.organization_id,
        number=_order_number(),
        account_id=sub.account_id,
        kind="Cancellation",
        currency=sub.currency,
        # What the cancellation takes off: -quantity × unit price, as its line says.
        total=-sub.unit_price * sub.quantity,
    )
    order.lines.append(
        OrderLine(
            product_id=sub.product_id,
            subscription_id=sub.id,
            quantity=-sub.quantity,
            unit_price=sub.unit_price,
        )
    )
    db.session.add(order)
    sub.status = SubscriptionStatus.CANCELLED
    db.session.flush()
    _event(sub, "subscription.cancelled", order)
    db.session.commit()
    _propagate_after_commit([sub.id])
    return order
