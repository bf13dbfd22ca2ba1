"""Back-ordering: activation rules, exactly-once propagation, Separate Invoices, lite upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobs.queueing import enqueue_event
from tests.helpers import activate_back_ordering, submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    DomainEvent,
    Order,
    Organization,
    PriceList,
    Product,
    Subscription,
    TenantReseller,
)
from webapp.services import backordering, commerce, lite_upgrade


def _make_tenant(app, auth, client, run_jobs, account="Northwind Cloud", **overrides) -> int:
    if client.get("/login").status_code == 200:
        auth.login()
    submit_creation(client, app, account=account, **overrides)
    run_jobs()
    with app.app_context():
        return db.session.scalar(
            select(TenantReseller.id)
            .join(Account, Account.id == TenantReseller.account_id)
            .where(Account.name == account)
        )


def _end_customer_orders(app, tenant_id: int, name="Buyer GmbH", quantity=3) -> int:
    """An end customer of the tenant orders one product; returns the subscription id."""
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        org_id = tenant.tenant_organization_id
        customer = db.session.scalar(
            select(Account).where(Account.organization_id == org_id, Account.name == name)
        )
        if customer is None:
            customer = commerce.sign_up(
                org_id, name, f"{name.split()[0].lower()}@example.com", "buyer-password-1", "EUR"
            ).account
        price_list = db.session.scalar(PriceList.in_org(org_id))
        product = db.session.scalar(
            Product.in_org(org_id).where(Product.name == "Microsoft 365 Business Basic")
        )
        lines = commerce.cart_lines(org_id, price_list, {str(product.id): quantity})
        order = commerce.place_order(customer, price_list, lines)
        return order.lines[0].subscription_id


def _activate(app, tenant_id: int, run_jobs) -> None:
    activate_back_ordering(app, tenant_id, run_jobs)


def _distributor_org(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Organization.id).where(Organization.client_id == "DEMO"))


def test_lite_reseller_activation_is_refused_until_its_subscriptions_are_copied_down(
    app, demo, auth, client, run_jobs
):
    """Contoso Lite's customers have subscriptions in the distributor's BSS only: refused."""
    tenant_id = _make_tenant(
        app, auth, client, run_jobs, "Contoso Lite", price_list_name="Partner USD"
    )
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        with pytest.raises(backordering.BackOrderingRefused, match="4 subscription"):
            backordering.start_activation(tenant, None)
        assert db.session.get(TenantReseller, tenant_id).back_ordering_active is False
    page = client.get(f"/tenant-resellers/{tenant_id}/back-ordering/activate").get_data(
        as_text=True
    )
    assert "Activation is refused" in page and "Adatum Corporation" in page


def test_accounts_without_subscriptions_are_copied_down_first(app, demo, auth, client, run_jobs):
    """A distributor-side customer of the reseller without subscriptions lands in its BSS."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    with app.app_context():
        northwind = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        db.session.add(
            Account(
                organization_id=northwind.organization_id,
                name="Quiet Customer",
                parent_account_id=northwind.id,
                billing_currency="EUR",
            )
        )
        db.session.commit()
    _activate(app, tenant_id, run_jobs)
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        assert tenant.back_ordering_active and tenant.back_ordering_activated_at
        assert db.session.scalar(
            select(Account.id).where(
                Account.organization_id == tenant.tenant_organization_id,
                Account.name == "Quiet Customer",
            )
        )


def test_activation_is_irreversible_and_confirmed(app, demo, auth, client, run_jobs):
    """Without the confirmation box nothing happens; once active it cannot be activated again."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    token = auth.token(f"/tenant-resellers/{tenant_id}/back-ordering/activate")
    unconfirmed = client.post(
        f"/tenant-resellers/{tenant_id}/back-ordering/activate", data={"csrf_token": token}
    )
    assert unconfirmed.status_code == 400
    with app.app_context():
        assert not db.session.get(TenantReseller, tenant_id).back_ordering_active
    confirmed = client.post(
        f"/tenant-resellers/{tenant_id}/back-ordering/activate",
        data={"csrf_token": token, "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Back Ordering activation is queued" in confirmed.get_data(as_text=True)
    run_jobs()
    page = client.get(f"/tenant-resellers/{tenant_id}/back-ordering").get_data(as_text=True)
    assert "Active</span> since" in page
    again = client.post(
        f"/tenant-resellers/{tenant_id}/back-ordering/activate",
        data={"csrf_token": token, "confirm": "yes"},
        follow_redirects=True,
    )
    assert "already active" in again.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).where(
                    AuditLog.action == "tenant_reseller.back_ordering_activated"
                )
            )
            == 1
        )
    assert not any("deactivate" in r.rule for r in app.url_map.iter_rules())


def test_first_paid_subscription_copies_the_customer_up_once(app, demo, auth, client, run_jobs):
    """Two orders of one end customer: one sub-customer, two subscriptions, two orders."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    _end_customer_orders(app, tenant_id)
    run_jobs()
    _end_customer_orders(app, tenant_id, quantity=2)
    run_jobs()
    dist = _distributor_org(app)
    with app.app_context():
        northwind = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        copies = db.session.scalars(
            select(Account).where(
                Account.organization_id == dist, Account.parent_account_id == northwind.id
            )
        ).all()
        assert [c.name for c in copies] == ["Buyer GmbH (Northwind Cloud)"]
        copy = copies[0]
        assert copy.managed_by_reseller and copy.billing_currency == "EUR"
        subs = db.session.scalars(
            select(Subscription).where(Subscription.account_id == copy.id)
        ).all()
        assert sorted(s.quantity for s in subs) == [2, 3]
        partner_price = db.session.scalar(
            select(func.min(Subscription.unit_price)).where(Subscription.account_id == copy.id)
        )
        assert partner_price > 0
        orders = db.session.scalars(select(Order).where(Order.organization_id == dist)).all()
        assert len(orders) == 2 and all(o.managed_by_reseller for o in orders)
        assert {e.status for e in db.session.scalars(select(DomainEvent))} == {"Processed"}


def test_a_change_creates_an_order_and_updates_the_copy(app, demo, auth, client, run_jobs):
    """Quantity change and cancellation each make an order and update the copied subscription."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    sub_id = _end_customer_orders(app, tenant_id)
    run_jobs()
    with app.app_context():
        commerce.change_quantity(db.session.get(Subscription, sub_id), 7)
    run_jobs()
    with app.app_context():
        copy = db.session.scalar(
            select(Subscription).where(Subscription.source_subscription_id == sub_id)
        )
        assert copy.quantity == 7
        commerce.cancel(db.session.get(Subscription, sub_id))
    run_jobs()
    dist = _distributor_org(app)
    with app.app_context():
        copy = db.session.scalar(
            select(Subscription).where(Subscription.source_subscription_id == sub_id)
        )
        assert copy.status == "Cancelled"
        kinds = db.session.scalars(
            select(Order.kind).where(Order.organization_id == dist).order_by(Order.id)
        ).all()
        assert kinds == ["New", "Change", "Cancellation"]


def test_separate_invoices_is_copied_at_copy_time(app, demo, auth, client, run_jobs):
    """Customers copied before a change keep the old value; later copies get the new one."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)  # the form ticks Separate Invoices
    _activate(app, tenant_id, run_jobs)
    _end_customer_orders(app, tenant_id, name="Early Bird")
    run_jobs()
    with app.app_context():
        db.session.get(TenantReseller, tenant_id).separate_invoices = False
        db.session.commit()
    _end_customer_orders(app, tenant_id, name="Late Comer")
    run_jobs()
    with app.app_context():
        flags = dict(
            db.session.execute(
                select(Account.name, Account.separate_invoices).where(
                    Account.managed_by_reseller.is_(True)
                )
            ).all()
        )
        assert flags == {
            "Early Bird (Northwind Cloud)": True,
            "Late Comer (Northwind Cloud)": False,
        }


def test_an_event_delivered_twice_is_applied_once(app, demo, auth, client, run_jobs):
    """Applying the same event again, or queueing it twice, makes no second order."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    sub_id = _end_customer_orders(app, tenant_id)
    with app.app_context():
        event = db.session.scalar(select(DomainEvent))
        enqueue_event(sub_id, event.id)  # a second delivery of the same event
        event_id = event.id
    run_jobs()
    with app.app_context():
        db.session.get(DomainEvent, event_id).status = "Pending"  # as if redelivered later
        db.session.commit()
        backordering.apply_event(event_id)
        assert (
            db.session.scalar(
                select(func.count()).select_from(Order).where(Order.managed_by_reseller.is_(True))
            )
            == 1
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(Subscription.source_subscription_id == sub_id)
            )
            == 1
        )


def test_sales_before_activation_are_held_then_propagated_once(app, demo, auth, client, run_jobs):
    """Sold before activation (and changed): held while the reseller sets up, listed on the
    confirmation, then propagated by the activation as a New order for the first quantity and
    a Change for the difference; a second delivery adds nothing."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    sub_id = _end_customer_orders(app, tenant_id, quantity=3)
    with app.app_context():
        commerce.change_quantity(db.session.get(Subscription, sub_id), 5)
    run_jobs()
    dist = _distributor_org(app)
    with app.app_context():
        assert set(db.session.scalars(select(DomainEvent.status))) == {"Held"}
        assert db.session.scalar(select(func.count()).where(Order.organization_id == dist)) == 0
    page = client.get(f"/tenant-resellers/{tenant_id}/back-ordering/activate")
    text = page.get_data(as_text=True)
    assert "Sold before activation" in text and "5 × Microsoft 365 Business Basic" in text
    _activate(app, tenant_id, run_jobs)
    with app.app_context():
        assert set(db.session.scalars(select(DomainEvent.status))) == {"Processed"}
        orders = db.session.scalars(
            select(Order).where(Order.organization_id == dist).order_by(Order.id)
        ).all()
        assert [(o.kind, o.lines[0].quantity) for o in orders] == [("New", 3), ("Change", 2)]
        assert orders[0].total == orders[0].lines[0].unit_price * 3
        copy = db.session.scalar(
            select(Subscription).where(Subscription.source_subscription_id == sub_id)
        )
        assert copy.quantity == 5 and copy.managed_by_reseller
        for event in db.session.scalars(select(DomainEvent)):  # delivered again
            event.status = "Pending"
        db.session.commit()
        backordering.propagate(sub_id)
        assert db.session.scalar(select(func.count()).where(Order.organization_id == dist)) == 2
        assert db.session.get(Subscription, copy.id).quantity == 5


def test_a_cancellation_is_an_order_with_a_negative_amount(app, demo, auth, client, run_jobs):
    """A cancellation reaches the distributor as -quantity × price, not as 0.00."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    sub_id = _end_customer_orders(app, tenant_id, quantity=2)
    run_jobs()
    with app.app_context():
        commerce.cancel(db.session.get(Subscription, sub_id))
    run_jobs()
    with app.app_context():
        cancellation = db.session.scalar(
            select(Order).where(
                Order.organization_id == _distributor_org(app), Order.kind == "Cancellation"
            )
        )
        line = cancellation.lines[0]
        assert line.quantity == -2 and cancellation.total == -2 * line.unit_price < 0


def test_a_failing_event_is_visible_with_retry(app, demo, auth, client, run_jobs):
    """A product removed from the reseller's price list fails the event; staff can retry it."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    with app.app_context():
        from webapp.models import PriceListItem

        tenant = db.session.get(TenantReseller, tenant_id)
        source = db.session.scalar(
            select(Product.source_product_id).where(
                Product.organization_id == tenant.tenant_organization_id,
                Product.name == "Microsoft 365 Business Basic",
            )
        )
        item = db.session.scalar(
            select(PriceListItem).where(
                PriceListItem.price_list_id == tenant.price_list_id,
                PriceListItem.product_id == source,
            )
        )
        saved = (item.price_list_id, item.product_id, item.retail_price, item.organization_id)
        db.session.delete(item)
        db.session.commit()
    _end_customer_orders(app, tenant_id)
    run_jobs()
    with app.app_context():
        event = db.session.scalar(select(DomainEvent))
        assert (
            event.status == "Failed"
            and "no longer in the reseller's price list" in event.last_error
        )
        db.session.add(
            PriceListItem(
                price_list_id=saved[0],
                product_id=saved[1],
                retail_price=saved[2],
                organization_id=saved[3],
            )
        )
        db.session.commit()
        event_id = event.id
    page = client.get(f"/tenant-resellers/{tenant_id}/back-ordering").get_data(as_text=True)
    assert ">Retry<" in page
    token = auth.token(f"/tenant-resellers/{tenant_id}/back-ordering")
    client.post(
        f"/tenant-resellers/{tenant_id}/back-ordering/events/{event_id}/retry",
        data={"csrf_token": token},
    )
    run_jobs()
    with app.app_context():
        assert db.session.get(DomainEvent, event_id).status == "Processed"


def test_lite_upgrade_end_to_end(app, demo, auth, client, run_jobs):
    """Contoso Lite: the upgrade asks for the same confirmation as activation (listing what
    it transfers); then customers and subscriptions are copied, back-ordering is on, and the
    distributor's originals are the copies: managed by the reseller (read-only, billed)."""
    tenant_id = _make_tenant(
        app, auth, client, run_jobs, "Contoso Lite", price_list_name="Partner USD"
    )
    page = client.get(f"/tenant-resellers/{tenant_id}/back-ordering").get_data(as_text=True)
    assert "Upgrade from lite reseller" in page
    confirm = client.get(f"/tenant-resellers/{tenant_id}/upgrade-lite").get_data(as_text=True)
    assert "cannot be undone" in confirm and "Adatum Corporation" in confirm
    token = auth.token(f"/tenant-resellers/{tenant_id}/upgrade-lite")
    unconfirmed = client.post(
        f"/tenant-resellers/{tenant_id}/upgrade-lite", data={"csrf_token": token}
    )
    assert unconfirmed.status_code == 400
    response = client.post(
        f"/tenant-resellers/{tenant_id}/upgrade-lite", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        assert tenant.back_ordering_active
        contoso = db.session.get(Account, tenant.account_id)
        assert not contoso.is_lite_reseller and contoso.is_reseller
        names = sorted(
            db.session.scalars(
                select(Account.name).where(Account.organization_id == tenant.tenant_organization_id)
            )
        )
        assert names == ["Adatum Corporation", "Fourth Coffee", "Wide World Importers"]
        subs = db.session.scalars(
            select(Subscription).where(
                Subscription.organization_id == tenant.tenant_organization_id
            )
        ).all()
        assert len(subs) == 4 and all(s.source_subscription_id for s in subs)
        assert sorted(s.quantity for s in subs) == [3, 12, 25, 25]
        originals = [db.session.get(Subscription, s.source_subscription_id) for s in subs]
        assert all(o.managed_by_reseller and o.account.managed_by_reseller for o in originals)
        assert lite_upgrade.can_upgrade(tenant) is False
    process_page = client.get(f"/tenant-resellers/{tenant_id}/processes").get_data(as_text=True)
    assert "Upgrade lite reseller — Contoso Lite" in process_page
    # A later change in the reseller's BSS updates the distributor's original subscription
    with app.app_context():
        sub = db.session.scalar(
            select(Subscription).where(
                Subscription.organization_id == tenant.tenant_organization_id,
                Subscription.quantity == 12,
            )
        )
        source_id = sub.source_subscription_id
        commerce.change_quantity(sub, 15)
    run_jobs()
    with app.app_context():
        assert db.session.get(Subscription, source_id).quantity == 15


def test_copied_records_are_read_only_for_the_distributor(app, demo, auth, client, run_jobs):
    """A sub-customer copied up by back-ordering cannot be edited, switched or synced (403)."""
    tenant_id = _make_tenant(app, auth, client, run_jobs)
    _activate(app, tenant_id, run_jobs)
    _end_customer_orders(app, tenant_id)
    run_jobs()
    with app.app_context():
        copy = db.session.scalar(select(Account).where(Account.managed_by_reseller.is_(True)))
        copy_id, enabled = copy.id, copy.enabled_for_ordering
    page = client.get(f"/accounts/{copy_id}").get_data(as_text=True)
    assert "Managed by the reseller" in page
    token = auth.token(f"/accounts/{copy_id}")
    for action in ("edit", "ordering", "sync"):
        response = client.post(
            f"/accounts/{copy_id}/{action}",
            data={"csrf_token": token, "enabled": "0", "name": "Renamed", "status": "synced"},
        )
        assert response.status_code == 403, action
    with app.app_context():
        copy = db.session.get(Account, copy_id)
        assert copy.enabled_for_ordering == enabled and copy.name != "Renamed"
