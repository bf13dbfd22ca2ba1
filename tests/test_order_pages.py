"""Order pages on both sides: lines with product names, New / Change with the quantity delta /
Cancellation with negative amounts, formatted money, the customer, the reseller's order a
back-ordered one comes from; linked from the Orders list; 404 for another organization's."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency
from sqlalchemy import select

from tests.helpers import activate_back_ordering, place_demo_orders
from tests.test_backordering import _end_customer_orders
from tests.test_tenant_bss import create_tenant, sign_in_tenant
from webapp.extensions import db
from webapp.models import Order, OrderLine, Subscription, TenantReseller
from webapp.services import commerce


def _money(amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale="en")


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_distributor_order_pages_show_kinds_deltas_and_negative_amounts(app, demo, auth, client):
    ids = place_demo_orders(app, demo)
    with app.app_context():
        change = db.session.get(Order, ids["change"])
        line = change.lines[0]
        price, currency, product = line.unit_price, change.currency, line.product.name
        cancelled = db.session.get(Order, ids["cancellation"]).lines[0]
        cancelled_amount = cancelled.unit_price * cancelled.quantity
        cancelled_product = cancelled.product.name
        numbers = {k: db.session.get(Order, ids[k]).number for k in ("new", "change")}
    auth.login()
    listing = _text(client.get("/orders"))
    for key in ("new", "change", "cancellation"):
        assert f'href="/orders/{ids[key]}"' in listing
    assert f"+3 × {product}" in listing and f"1 × {cancelled_product} cancelled" in listing
    assert "-1 ×" not in listing

    page = _text(client.get(f"/orders/{ids['change']}"))
    assert f"Change order {numbers['change']}" in page and "Adatum Corporation" in page
    assert "Quantity change" in page and ">+3<" in page and product in page
    assert _money(price, currency) in page and _money(price * 3, currency) in page

    page = _text(client.get(f"/orders/{ids['cancellation']}"))
    assert "Quantity cancelled" in page and cancelled_product in page
    assert cancelled_amount < 0 and _money(cancelled_amount, currency) in page
    # The order's total is what the cancellation takes off, not 0.00.
    assert page.count(_money(cancelled_amount, currency)) == 2

    page = _text(client.get(f"/orders/{ids['new']}"))
    assert f"New order {numbers['new']}" in page and "Back-ordered from" not in page


def test_both_sides_and_the_source_of_a_back_ordered_order(app, demo, auth, client, run_jobs):
    """A tenant's customer orders 3 and then cancels: the tenant sees its orders; the
    distributor's copies name the reseller's order and customer; each side gets 404 for the
    other's orders."""
    info = create_tenant(app, client, auth, run_jobs)
    with app.app_context():
        tenant_id = db.session.scalar(
            select(TenantReseller.id).where(TenantReseller.tenant_organization_id == info["org_id"])
        )
    activate_back_ordering(app, tenant_id, run_jobs)
    sub_id = _end_customer_orders(app, tenant_id, quantity=3)
    run_jobs()
    with app.app_context():
        commerce.cancel(db.session.get(Subscription, sub_id))
    run_jobs()
    with app.app_context():
        tenant_orders = db.session.scalars(
            select(Order).where(Order.organization_id == info["org_id"]).order_by(Order.id)
        ).all()
        tenant_new, tenant_cancel = (o.id for o in tenant_orders)
        new_number = tenant_orders[0].number
        copies = db.session.scalars(
            select(Order)
            .where(Order.organization_id == demo, Order.managed_by_reseller.is_(True))
            .order_by(Order.id)
        ).all()
        assert [o.kind for o in copies] == ["New", "Cancellation"]
        copy_new, copy_cancel = (o.id for o in copies)
        line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == copy_cancel))
        copy_cancel_amount = line.unit_price * line.quantity
        copy_currency = copies[1].currency

    auth.login()
    page = _text(client.get(f"/orders/{copy_new}"))
    assert "Back-ordered from" in page and new_number in page
    assert "Northwind Cloud" in page and "Buyer GmbH" in page
    assert f'href="/tenant-resellers/{tenant_id}"' in page
    page = _text(client.get(f"/orders/{copy_cancel}"))
    assert copy_cancel_amount < 0 and _money(copy_cancel_amount, copy_currency) in page
    assert client.get(f"/orders/{tenant_new}").status_code == 404
    client.post("/logout", data={"csrf_token": auth.token()})

    sign_in_tenant(auth, info)
    listing = _text(client.get("/orders"))
    assert (
        f'href="/orders/{tenant_new}"' in listing and f'href="/orders/{tenant_cancel}"' in listing
    )
    page = _text(client.get(f"/orders/{tenant_new}"))
    assert "Microsoft 365 Business Basic" in page and "Buyer GmbH" in page
    assert "Back-ordered from" not in page
    page = _text(client.get(f"/orders/{tenant_cancel}"))
    assert "Quantity cancelled" in page and "−" not in page.split("Lines")[1].split("Total")[0]
    assert client.get(f"/orders/{copy_new}").status_code == 404
    assert client.get("/orders/2147483647").status_code == 404
