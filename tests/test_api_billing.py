"""The API's billing reads: orders (with their lines, New / Change / Cancellation),
subscriptions, invoices and the reconciliation, each scoped to the token's organization."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from tests.helpers import place_demo_orders
from tests.test_api import assert_problem, bearer, make_token
from webapp.api import tokens
from webapp.extensions import db
from webapp.models import Account, Invoice, InvoiceLine, Order, Organization, Role, User
from webapp.services import invoicing
from webapp.services.billing import reconciliation


@pytest.fixture
def token(app, demo) -> str:
    return make_token(app, demo)


@pytest.fixture
def orders(app, demo) -> dict:
    return place_demo_orders(app, demo)


@pytest.fixture
def other(app, demo) -> dict:
    """Another distributor with a customer, an order and an invoice of its own."""
    with app.app_context():
        org = Organization(name="Other Distributor", client_id="OTHERDIST1")
        db.session.add(org)
        db.session.flush()
        db.session.add(
            User(organization_id=org.id, username="admin", password_hash="x", role=Role.ADMIN)
        )
        account = Account(organization_id=org.id, name="Other Customer", billing_currency="EUR")
        db.session.add(account)
        db.session.flush()
        order = Order(
            organization_id=org.id,
            number="SO-OTHER1",
            account_id=account.id,
            currency="EUR",
            total=Decimal("9.00"),
        )
        invoice = Invoice(
            organization_id=org.id,
            account_id=account.id,
            period="2026-10",
            grouping="consolidated",
            currency="EUR",
            total=Decimal("1.00"),
        )
        db.session.add_all([order, invoice])
        db.session.commit()
        return {"org": org.id, "order": order.id, "invoice": invoice.id, "account": account.id}


def test_orders_list_newest_first_with_lines_and_kinds(app, client, token, orders):
    """New, Change (+3, its quantity delta) and Cancellation (negative amounts) with product
    names, SKUs, unit prices and totals as decimal strings; paged; filtered by account."""
    body = client.get(
        f"/api/v1/orders?account_id={orders['account']}&per_page=2", headers=bearer(token)
    ).get_json()
    assert body["total"] == 3 and body["per_page"] == 2 and len(body["items"]) == 2
    rest = client.get(
        f"/api/v1/orders?account_id={orders['account']}&per_page=2&page=2", headers=bearer(token)
    ).get_json()
    items = body["items"] + rest["items"]
    by_id = {o["id"]: o for o in items}
    assert [o["id"] for o in items] == [orders["cancellation"], orders["change"], orders["new"]]

    new = by_id[orders["new"]]
    assert new["kind"] == "New" and new["managed_by_reseller"] is False
    assert [line["quantity"] for line in new["lines"]] == [2, 1]
    assert all(line["quantity_delta"] is None for line in new["lines"])
    first = new["lines"][0]
    price = Decimal(first["unit_price"])
    assert Decimal(first["amount"]) == price * 2 and first["product_name"] and first["sku"]
    assert Decimal(new["total"]) == sum(Decimal(line["amount"]) for line in new["lines"])
    assert new["total"] == str(Decimal(new["total"]).quantize(Decimal("0.01")))

    change = by_id[orders["change"]]
    (line,) = change["lines"]
    assert change["kind"] == "Change" and line["quantity_delta"] == 3 and line["quantity"] == 3
    assert Decimal(line["amount"]) == price * 3 == Decimal(change["total"])

    cancellation = by_id[orders["cancellation"]]
    (line,) = cancellation["lines"]
    assert cancellation["kind"] == "Cancellation" and line["quantity"] == 1
    assert line["quantity_delta"] is None
    assert Decimal(line["amount"]) < 0
    assert Decimal(cancellation["total"]) == Decimal(line["amount"])

    one = client.get(f"/api/v1/orders/{orders['change']}", headers=bearer(token))
    assert one.status_code == 200 and one.get_json() == change
    assert change["links"]["self"] == f"/api/v1/orders/{orders['change']}"


def test_subscriptions_list_and_one(app, client, token, orders):
    """The changed subscription shows its new quantity; the status filter keeps only
    cancelled ones."""
    sub = client.get(
        f"/api/v1/subscriptions/{orders['subscription']}", headers=bearer(token)
    ).get_json()
    assert sub["quantity"] == 5 and sub["status"] == "Active"
    assert Decimal(sub["period_total"]) == Decimal(sub["unit_price"]) * 5
    cancelled = client.get(
        f"/api/v1/subscriptions?account_id={orders['account']}&status=Cancelled",
        headers=bearer(token),
    ).get_json()
    assert cancelled["total"] == 1 and cancelled["items"][0]["status"] == "Cancelled"
    everything = client.get("/api/v1/subscriptions?per_page=100", headers=bearer(token))
    assert orders["subscription"] in [s["id"] for s in everything.get_json()["items"]]
    assert_problem(client.get("/api/v1/subscriptions?status=Paused", headers=bearer(token)), 400)


def _issued_invoice(app, organization_id: int, account_id: int) -> int:
    with app.app_context():
        invoice = Invoice(
            organization_id=organization_id,
            account_id=account_id,
            number="INV-2026-000042",
            status="Issued",
            period="2026-10",
            grouping="consolidated",
            currency="JPY",
            net_total=Decimal("1000"),
            tax_rate=Decimal("10"),
            tax_total=Decimal("100"),
            total=Decimal("1100"),
            due_date=date(2026, 12, 1),
            seller_name="Demo Distributor",
            seller_address="1 Main Street",
            buyer_name="Adatum Corporation",
            buyer_address="2 Side Street",
            buyer_email="billing@adatum.example",
        )
        invoice.lines.append(
            InvoiceLine(
                description="Cloud Server L",
                quantity=2,
                unit_price=Decimal("500"),
                quantity_days=62,
                days_in_period=31,
                amount=Decimal("1000"),
            )
        )
        db.session.add(invoice)
        db.session.commit()
        return invoice.id


def test_invoices_with_state_parties_totals_and_filters(app, client, token, demo, orders):
    invoice_id = _issued_invoice(app, demo, orders["account"])
    body = client.get(f"/api/v1/invoices/{invoice_id}", headers=bearer(token)).get_json()
    assert body["number"] == "INV-2026-000042" and body["state"] == "Issued"
    assert body["seller"] == {"name": "Demo Distributor", "address": "1 Main Street"}
    assert body["buyer"]["address"] == "2 Side Street"
    # JPY has no minor unit: the amounts have no decimals.
    assert (body["net"], body["tax"], body["gross"], body["tax_rate"]) == (
        "1000",
        "100",
        "1100",
        "10",
    )
    assert body["due_date"] == "2026-12-01" and body["currency"] == "JPY"
    assert body["lines"][0]["amount"] == "1000" and body["lines"][0]["quantity_days"] == 62

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/invoices{query}", headers=bearer(token))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [i["id"] for i in response.get_json()["items"]]

    assert ids("?month=2026-10&state=Issued") == [invoice_id]
    assert ids("?month=2026-09") == [] and ids("?state=Draft") == []
    assert_problem(client.get("/api/v1/invoices?month=2026-13", headers=bearer(token)), 400)
    assert_problem(client.get("/api/v1/invoices?state=Paid", headers=bearer(token)), 400)


def test_another_organizations_rows_are_404_and_not_listed(app, client, token, orders, other):
    for path in (f"/api/v1/orders/{other['order']}", f"/api/v1/invoices/{other['invoice']}"):
        assert_problem(client.get(path, headers=bearer(token)), 404)
    listed = client.get("/api/v1/orders?per_page=100", headers=bearer(token)).get_json()
    assert other["order"] not in [o["id"] for o in listed["items"]]
    filtered = client.get(f"/api/v1/orders?account_id={other['account']}", headers=bearer(token))
    assert filtered.get_json()["total"] == 0
    theirs = make_token(app, other["org"], "other")
    assert_problem(client.get(f"/api/v1/orders/{orders['new']}", headers=bearer(theirs)), 404)
    assert_problem(
        client.get(f"/api/v1/subscriptions/{orders['subscription']}", headers=bearer(theirs)),
        404,
    )


def test_reconciliation_is_the_report_of_the_service_and_the_cli(app, client, token, demo):
    """The same report as `flask billing reconcile --json`, and a month not ended is 400."""
    response = client.get("/api/v1/reconciliation", headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    result = app.test_cli_runner().invoke(args=["billing", "reconcile", "--json"])
    cli = json.loads(result.output)
    assert body == {**cli, "ok": not cli["differences"]}
    with app.app_context():
        org = db.session.get(Organization, demo)
        period = invoicing.default_period(org)
        assert body["period"] == period.label
        assert body == {**reconciliation.reconcile(demo, period).as_json(), "ok": True}
        current = invoicing.org_today(org).strftime("%Y-%m")
    problem = assert_problem(
        client.get(f"/api/v1/reconciliation?period={current}", headers=bearer(token)), 400
    )
    assert "has not ended" in problem["errors"]["period"]


def test_the_reconciliation_and_billing_reads_are_the_distributors_only(app, demo, client):
    """A tenant organization's token gets 403 on every billing read."""
    with app.app_context():
        tenant = Organization(name="Tenant Org", client_id="TENANTAPI3", parent_id=demo)
        db.session.add(tenant)
        db.session.commit()
        raw = tokens.create_token(tenant.id, None, "tenant")[1]
    for path in ("reconciliation", "orders", "subscriptions", "invoices"):
        body = assert_problem(client.get(f"/api/v1/{path}", headers=bearer(raw)), 403)
        assert body["type"].endswith("distributor-only")
