"""Each billed subscription's history as a timeline of changes, read from the distributor's
orders (one query for a whole batch of subscriptions)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Order, OrderLine, Subscription, SubscriptionStatus
from webapp.services.billing.proration import Change


def timelines(subscriptions: list[Subscription]) -> dict[int, list[Change]]:
    """{subscription id: changes}. Orders say what changed and when it took effect; what a
    subscription had before its first order (one made directly in the distributor's BSS,
    such as a lite reseller's original) starts when the subscription was created."""
    if not subscriptions:
        return {}
    lines = defaultdict(list)
    rows = db.session.execute(
        select(
            OrderLine.subscription_id,
            OrderLine.quantity,
            OrderLine.unit_price,
            func.coalesce(Order.effective_at, Order.created_at),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.subscription_id.in_([s.id for s in subscriptions]))
        .order_by(func.coalesce(Order.effective_at, Order.created_at), OrderLine.id)
    ).all()
    for subscription_id, delta, unit_price, at in rows:
        lines[subscription_id].append((at, delta, unit_price))
    result = {}
    for sub in subscriptions:
        history = lines.get(sub.id, [])
        active = sub.status == SubscriptionStatus.ACTIVE
        if not history:  # made directly in this BSS: its quantity since it was created
            changes = [Change(sub.created_at, sub.quantity, sub.unit_price)]
            if not active:
                changes.append(Change(sub.updated_at, 0, sub.unit_price))
            result[sub.id] = changes
            continue
        # Orders are the changes; what it had before the first one, it had since created. (A
        # sale made before back-ordering takes effect before its copy was created.)
        quantity = (sub.quantity if active else 0) - sum(delta for _, delta, _ in history)
        start = min(sub.created_at, history[0][0])
        changes = [Change(start, quantity, history[0][2])] if quantity else []
        for at, delta, unit_price in history:
            quantity += delta
            changes.append(Change(at, quantity, unit_price))
        result[sub.id] = changes
    return result
