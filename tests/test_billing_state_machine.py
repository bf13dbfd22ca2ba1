"""A long random sequence of storefront orders, changes and cancellations, interleaved with
back-ordering's activation, lost jobs (Redis forgot them; the reaper relays them), second
deliveries of the same events and workers running at any moment: afterwards every paid
subscription of the tenant has an equal copy in the distributor's BSS, and each copy's orders
add up to its quantity. Hypothesis draws the sequences; jobs run on a real RQ worker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import SimpleWorker
from sqlalchemy import func, select

from jobs import reaper
from jobs.connection import all_queues, get_queue, get_redis
from jobs.queueing import enqueue_event
from tests.conftest import _clear_tables
from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    OrderLine,
    Organization,
    PriceList,
    PriceListItem,
    Product,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
)
from webapp.services import backordering, commerce, creation
from webapp.services.billing import reconciliation

CUSTOMERS = ["Alpha GmbH", "Beta AG", "Gamma KG"]

operation = st.one_of(
    st.tuples(
        st.just("sell"),
        st.integers(0, len(CUSTOMERS) - 1),
        st.integers(0, 4),
        st.integers(1, 20),
    ),
    st.tuples(st.just("change"), st.integers(0, 30), st.integers(1, 20)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("activate")),
    st.tuples(st.just("work")),
    st.tuples(st.just("lose_jobs")),
    st.tuples(st.just("deliver_again"), st.integers(0, 30)),
)


def _work(app) -> None:
    with app.app_context():
        SimpleWorker(all_queues(), connection=get_redis()).work(burst=True)


def _new_tenant(app) -> int:
    with app.app_context():
        _clear_tables()
        get_redis().flushdb()
        org = seed_demo(password="demo-password-123")
        account = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        price_list = db.session.scalar(select(PriceList).where(PriceList.name == "Partner EUR"))
        result = creation.submit(
            org.id,
            None,
            creation.CreationRequest(
                account_id=account.id,
                price_list_id=price_list.id,
                language="en",
                timezone="Europe/Athens",
                date_format="dd/MM/yyyy",
                edition="Basic",
                separate_invoices=False,
                admin_username="tenantadmin",
                admin_email="admin@example.com",
                admin_password="a-long-enough-password",
            ),
        )
        tenant_id = result.tenant_reseller.id
    _work(app)
    return tenant_id


def _apply(app, tenant_id: int, op: tuple, state: dict) -> None:
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        org_id = tenant.tenant_organization_id
        subs = db.session.scalars(Subscription.in_org(org_id).order_by(Subscription.id)).all()
        kind = op[0]
        if kind == "sell":
            name = CUSTOMERS[op[1]]
            account = db.session.scalar(Account.in_org(org_id).where(Account.name == name))
            if account is None:
                email = f"{name.split()[0].lower()}@example.com"
                account = commerce.sign_up(org_id, name, email, "buyer-password-1", "EUR").account
            price_list = db.session.scalar(PriceList.in_org(org_id))
            products = db.session.scalars(
                select(Product)
                .join(PriceListItem, PriceListItem.product_id == Product.id)
                .where(PriceListItem.price_list_id == price_list.id, PriceListItem.retail_price > 0)
                .order_by(Product.id)
            ).all()
            product = products[op[2] % len(products)]
            lines = commerce.cart_lines(org_id, price_list, {str(product.id): op[3]})
            commerce.place_order(account, price_list, lines)
        elif kind in ("change", "cancel", "deliver_again") and subs:
            sub = subs[op[1] % len(subs)]
            if (
                kind == "change"
                and sub.status == SubscriptionStatus.ACTIVE
                and sub.quantity != op[2]
            ):
                commerce.change_quantity(sub, op[2])
            elif kind == "cancel" and sub.status == SubscriptionStatus.ACTIVE:
                commerce.cancel(sub)
            elif kind == "deliver_again":
                event_id = db.session.scalar(
                    select(DomainEvent.id).where(DomainEvent.subscription_id == sub.id).limit(1)
                )
                if event_id is not None and tenant.back_ordering_active:
                    enqueue_event(sub.id, event_id, now=True)
        elif kind == "activate" and not state["activation_started"]:
            state["activation_started"] = True
            backordering.start_activation(tenant, None)
        elif kind == "lose_jobs":
            for queue in all_queues():
                queue.empty()  # as if Redis had restarted without its data
    if kind == "work":
        _work(app)


def _settle(app, tenant_id: int, state: dict) -> None:
    """Activation (if the sequence never started it), then the reaper (which relays what was
    lost) and workers until everything is done."""
    with app.app_context():
        if not state["activation_started"]:
            backordering.start_activation(db.session.get(TenantReseller, tenant_id), None)
    for _ in range(4):
        with app.app_context():
            reaper.sweep()
        _work(app)


@settings(
    max_examples=6,
    stateful_step_count=1,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=5, max_size=30))
def test_reconciliation_finds_no_differences_after_any_sequence(app, ops):
    """Whatever the order of sales, changes, cancellations, activation, lost jobs and second
    deliveries: zero differences, and each copy's orders add up to its quantity."""
    app.config["HEARTBEAT_STALE_SECONDS"] = 0  # the reaper relays lost jobs at once
    tenant_id = _new_tenant(app)
    state = {"activation_started": False}
    for op in ops:
        _apply(app, tenant_id, op, state)
    _settle(app, tenant_id, state)
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        assert tenant.back_ordering_active
        report = reconciliation.Report(period=None)
        reconciliation.check_subscriptions(
            db.session.get(Organization, tenant.organization_id), report
        )
        assert report.differences == [], [d.message for d in report.differences]
        copies = db.session.scalars(
            select(Subscription).where(
                Subscription.organization_id == tenant.organization_id,
                Subscription.managed_by_reseller.is_(True),
            )
        ).all()
        for copy in copies:
            ordered = db.session.scalar(
                select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
                    OrderLine.subscription_id == copy.id
                )
            )
            expected = copy.quantity if copy.status == SubscriptionStatus.ACTIVE else 0
            assert ordered == expected, (copy.id, ordered, expected)
        assert get_queue().count == 0
