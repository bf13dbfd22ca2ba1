"""The invoice run: the distributor bills its tenant resellers for the subscriptions that
back-ordering copied up, grouped by the Separate Invoices rule (rows made here with the ORM)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Invoice,
    InvoiceLine,
    Organization,
    Product,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    User,
)
from webapp.services import invoicing
from webapp.services.passwords import hash_password

# A past month; the demo distributor's time zone is Europe/Athens (UTC+3 until 25 October,
# then UTC+2), so October runs from 2026-09-30 21:00 UTC to 2026-10-31 22:00 UTC.
PERIOD = "2026-10"
OTHER_PASSWORD = "other-password-123"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _sub_customer(org_id: int, reseller: Account, name: str, separate: bool) -> Account:
    """A sub-customer as back-ordering copies it up under the reseller's account."""
    account = Account(
        organization_id=org_id,
        name=name,
        parent_account_id=reseller.id,
        managed_by_reseller=True,
        separate_invoices=separate,
        billing_currency=reseller.billing_currency,
        enabled_for_ordering=True,
    )
    db.session.add(account)
    db.session.flush()
    return account


def _subscribe(
    account: Account,
    product: Product,
    quantity: int,
    price: str,
    *,
    created: str = "2026-09-15T10:00:00",
    status: str = SubscriptionStatus.ACTIVE,
    updated: str | None = None,
    managed: bool = True,
) -> Subscription:
    subscription = Subscription(
        organization_id=account.organization_id,
        account_id=account.id,
        product_id=product.id,
        quantity=quantity,
        unit_price=Decimal(price),
        currency=account.billing_currency,
        status=status,
        managed_by_reseller=managed,
        created_at=_utc(created),
        updated_at=_utc(updated or created),
    )
    db.session.add(subscription)
    db.session.flush()
    return subscription


@pytest.fixture
def billing(app, demo):
    """Northwind has Alpha (Separate Invoices), Beta and Gamma; Tailspin has Delta."""
    with app.app_context():
        northwind = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        tailspin = db.session.scalar(select(Account).where(Account.name == "Tailspin IT"))
        products = db.session.scalars(Product.in_org(demo).order_by(Product.sku).limit(6)).all()
        alpha = _sub_customer(demo, northwind, "Alpha GmbH", separate=True)
        beta = _sub_customer(demo, northwind, "Beta AG", separate=False)
        gamma = _sub_customer(demo, northwind, "Gamma KG", separate=False)
        delta = _sub_customer(demo, tailspin, "Delta SA", separate=False)
        _subscribe(alpha, products[0], 3, "2.8550")  # 8.565 → 8.57 (half up)
        _subscribe(beta, products[1], 3, "3.3333")  # 9.9999 → 10.00
        _subscribe(gamma, products[2], 7, "1.2250")  # 8.575 → 8.58
        _subscribe(gamma, products[3], 1, "12.0000")  # 12.00
        _subscribe(delta, products[4], 2, "5.0000")  # 10.00
        # The distributor's own subscription for the same account is not back-ordered.
        _subscribe(beta, products[5], 4, "9.0000", managed=False)
        db.session.commit()
        return {
            "org_id": demo,
            "northwind": northwind.id,
            "tailspin": tailspin.id,
            "alpha": alpha.id,
            "beta": beta.id,
            "gamma": gamma.id,
            "delta": delta.id,
            "products": [p.id for p in products],
        }


def _run(app, org_id: int, period: str = PERIOD) -> dict:
    with app.app_context():
        result = invoicing.run(org_id, invoicing.Period.parse(period), None)
        return {"ids": [i.id for i in result.invoices], "removed": result.removed}


def _invoices(app, org_id: int, period: str = PERIOD) -> dict[tuple[str, str], dict]:
    """The period's invoices keyed by (reseller name, sub-customer name or "Consolidated")."""
    with app.app_context():
        result = {}
        for invoice in invoicing.invoices_of(org_id, invoicing.Period.parse(period)):
            target = invoice.sub_customer.name if invoice.sub_customer else "Consolidated"
            result[(invoice.account.name, target)] = {
                "id": invoice.id,
                "number": invoice.number,
                "grouping": invoice.grouping,
                "total": invoice.total,
                "currency": invoice.currency,
                "lines": [(ln.description, ln.quantity, ln.amount) for ln in invoice.lines],
                "line_ids": [ln.id for ln in invoice.lines],
            }
        return result


def _page_token(client, path="/invoices/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def test_grouping_follows_separate_invoices_and_totals_are_exact_decimals(app, billing):
    """A sub-customer with Separate Invoices gets its own invoice, the reseller's others share one
    consolidated invoice, and every amount is a Decimal rounded half up to cents."""
    _run(app, billing["org_id"])
    invoices = _invoices(app, billing["org_id"])
    assert set(invoices) == {
        ("Northwind Cloud", "Alpha GmbH"),
        ("Northwind Cloud", "Consolidated"),
        ("Tailspin IT", "Consolidated"),
    }
    alpha = invoices[("Northwind Cloud", "Alpha GmbH")]
    assert alpha["grouping"] == f"sub-customer:{billing['alpha']}"
    assert [line[1:] for line in alpha["lines"]] == [(3, Decimal("8.57"))]
    assert alpha["total"] == Decimal("8.57") and isinstance(alpha["total"], Decimal)
    consolidated = invoices[("Northwind Cloud", "Consolidated")]
    assert consolidated["grouping"] == "consolidated"
    assert [amount for _, _, amount in consolidated["lines"]] == [
        Decimal("10.00"),
        Decimal("8.58"),
        Decimal("12.00"),
    ]
    assert consolidated["total"] == Decimal("30.58")
    assert all(d.startswith(("Beta AG: ", "Gamma KG: ")) for d, _, _ in consolidated["lines"])
    assert invoices[("Tailspin IT", "Consolidated")]["total"] == Decimal("10.00")
    assert {i["currency"] for i in invoices.values()} == {"EUR"}
    # Readable numbers in order: reseller by name, consolidated first.
    assert [invoices[k]["number"] for k in sorted(invoices)] == [
        "INV-2026-10-0002",
        "INV-2026-10-0001",
        "INV-2026-10-0003",
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3


def test_the_per_account_override_changes_the_grouping_of_the_next_run(app, billing, auth, client):
    """Switching Separate Invoices on a copied sub-customer's page is audited and moves it to or
    from its own invoice on the next run, without billing anything twice."""
    _run(app, billing["org_id"])
    auth.login()
    page = client.get(f"/accounts/{billing['beta']}").get_data(as_text=True)
    assert "Managed by reseller" in page
    assert "overrides the reseller's Separate Invoices setting" in page
    assert "for this sub-customer only" in page
    token = csrf_from(page)
    response = client.post(
        f"/accounts/{billing['beta']}/separate-invoices", data={"csrf_token": token, "enabled": "1"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/accounts/{billing['alpha']}/separate-invoices",
        data={"csrf_token": token, "enabled": "0"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Separate Invoices: <strong>No</strong>" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Account, billing["beta"]).separate_invoices is True
        assert db.session.get(Account, billing["alpha"]).separate_invoices is False
        # The reseller's own setting is untouched.
        assert db.session.scalar(select(TenantReseller)) is None
        logs = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "account.separate_invoices")
        ).all()
        assert {(log.entity_id, log.after["separate_invoices"]) for log in logs} == {
            (billing["beta"], True),
            (billing["alpha"], False),
        }
    before = _invoices(app, billing["org_id"])
    result = _run(app, billing["org_id"])
    after = _invoices(app, billing["org_id"])
    assert set(after) == {
        ("Northwind Cloud", "Beta AG"),
        ("Northwind Cloud", "Consolidated"),
        ("Tailspin IT", "Consolidated"),
    }
    assert after[("Northwind Cloud", "Beta AG")]["total"] == Decimal("10.00")
    consolidated = after[("Northwind Cloud", "Consolidated")]
    assert consolidated["id"] == before[("Northwind Cloud", "Consolidated")]["id"]
    assert consolidated["total"] == Decimal("8.57") + Decimal("8.58") + Decimal("12.00")
    assert result["removed"] == [before[("Northwind Cloud", "Alpha GmbH")]["number"]]
    assert after[("Northwind Cloud", "Beta AG")]["number"] == "INV-2026-10-0004"


def test_the_switch_is_only_for_sub_customers_copied_up(app, billing, auth, client):
    """The distributor's own accounts have no Separate Invoices switch: posting to it is a 404."""
    auth.login()
    token = _page_token(client)
    page = client.get(f"/accounts/{billing['northwind']}").get_data(as_text=True)
    assert "separate-invoices" not in page
    response = client.post(
        f"/accounts/{billing['northwind']}/separate-invoices",
        data={"csrf_token": token, "enabled": "1"},
    )
    assert response.status_code == 404


def test_subscriptions_ended_before_the_period_or_started_after_it_are_not_billed(app, billing):
    """Only subscriptions created before the period's end and active, or changed or cancelled on or
    after its start, in the distributor's time zone, are billed."""
    with app.app_context():
        beta = db.session.get(Account, billing["beta"])
        product = db.session.get(Product, billing["products"][0])
        cases = {
            "cancelled before": ("2026-08-01T00:00:00", "Cancelled", "2026-09-20T12:00:00"),
            "cancelled during": ("2026-08-01T00:00:00", "Cancelled", "2026-10-10T12:00:00"),
            "cancelled at start": ("2026-08-01T00:00:00", "Cancelled", "2026-09-30T21:00:00"),
            "cancelled just before": ("2026-08-01T00:00:00", "Cancelled", "2026-09-30T20:59:59"),
            "created after": ("2026-11-02T09:00:00", "Active", None),
            "created 1 November Athens": ("2026-10-31T22:30:00", "Active", None),
            "created 31 October Athens": ("2026-10-31T21:30:00", "Active", None),
        }
        ids = {}
        for quantity, (name, (created, status, updated)) in enumerate(cases.items(), start=10):
            ids[name] = _subscribe(
                beta, product, quantity, "1.0000", created=created, status=status, updated=updated
            ).id
        db.session.commit()
    _run(app, billing["org_id"])
    with app.app_context():
        billed = set(db.session.scalars(select(InvoiceLine.subscription_id)))
    assert ids["cancelled during"] in billed
    assert ids["cancelled at start"] in billed
    assert ids["created 31 October Athens"] in billed
    assert ids["cancelled before"] not in billed
    assert ids["cancelled just before"] not in billed
    assert ids["created after"] not in billed
    assert ids["created 1 November Athens"] not in billed


def test_running_a_period_again_updates_the_same_invoices(app, billing, auth, client):
    """A second run of the same period from the page keeps each invoice and its number, rebuilds
    its lines from the current subscriptions, and logs both runs."""
    auth.login()
    page = client.get("/invoices/").get_data(as_text=True)
    with app.app_context():
        zone = ZoneInfo(db.session.get(Organization, billing["org_id"]).timezone)
    today = datetime.now(zone).date()
    last_month = (
        f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"
    )
    assert f'value="{last_month}"' in page  # last month (in the distributor's zone) by default
    token = csrf_from(page)
    response = client.post("/invoices/run", data={"csrf_token": token, "period": PERIOD})
    assert response.status_code == 303
    first = _invoices(app, billing["org_id"])
    with app.app_context():
        subscription = db.session.scalar(
            select(Subscription).where(Subscription.account_id == billing["delta"])
        )
        subscription.quantity = 5
        db.session.commit()
    response = client.post(
        "/invoices/run", data={"csrf_token": token, "period": PERIOD}, follow_redirects=True
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "0 new, 3 updated, 0 removed" in text
    second = _invoices(app, billing["org_id"])
    assert {k: (v["id"], v["number"]) for k, v in first.items()} == {
        k: (v["id"], v["number"]) for k, v in second.items()
    }
    assert second[("Tailspin IT", "Consolidated")]["total"] == Decimal("25.00")
    assert second[("Northwind Cloud", "Consolidated")]["total"] == Decimal("30.58")
    assert set(second[("Tailspin IT", "Consolidated")]["line_ids"]).isdisjoint(
        first[("Tailspin IT", "Consolidated")]["line_ids"]
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3
        assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 5
        runs = db.session.scalars(
            select(AuditLog).where(AuditLog.entity_type == "invoice_run")
        ).all()
        assert [(r.entity_id, r.actor_label, r.after["period"]) for r in runs] == [
            (202610, "admin", PERIOD)
        ] * 2
    for key, label in [(("Northwind Cloud", "Alpha GmbH"), "Alpha GmbH"), (None, "Consolidated")]:
        assert label in text
        if key:
            assert second[key]["number"] in text
    invoice_page = client.get(f"/invoices/{second[('Tailspin IT', 'Consolidated')]['id']}")
    assert invoice_page.status_code == 200
    html = invoice_page.get_data(as_text=True)
    assert "print.css" in html and "Delta SA: " in html and "€25.00" in html
    printed = client.get(f"/invoices/print?period={PERIOD}").get_data(as_text=True)
    assert printed.count('class="card invoice-sheet"') == 3


@pytest.mark.parametrize(
    "period,message",
    [
        ("", "Enter a period as YYYY-MM"),
        ("October", "is not a period: use YYYY-MM"),
        ("2026-13", "The month must be between 01 and 12."),
        ("2099-01", "January 2099 has not started yet"),
    ],
)
def test_a_bad_period_on_the_page_is_a_400_next_to_the_field(
    app, demo, auth, client, period, message
):
    """A bad period, shown or run, answers 400 with the message next to the field; nothing runs."""
    auth.login()
    token = _page_token(client)
    for response in (
        client.post("/invoices/run", data={"csrf_token": token, "period": period}),
        client.get("/invoices/", query_string={"period": period}),
    ):
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        error = re.search(r'<p class="error" id="period-error">([^<]*)</p>', html)
        assert error and message in error[1]
        assert 'aria-describedby="period-hint period-error"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


@pytest.fixture
def other_invoice(app, demo):
    """Another distributor with a reseller and its own invoice of the same period."""
    with app.app_context():
        org = Organization(name="Other Distributor", client_id="OTHER")
        db.session.add(org)
        db.session.flush()
        reseller = Account(organization_id=org.id, name="Other Reseller", is_reseller=True)
        db.session.add(reseller)
        db.session.flush()
        invoice = Invoice(
            organization_id=org.id,
            account_id=reseller.id,
            number="INV-2026-10-0001",
            period=PERIOD,
            grouping="consolidated",
            currency="EUR",
            total=Decimal("1.00"),
        )
        db.session.add(invoice)
        db.session.commit()
        return invoice.id


def test_another_organizations_invoice_is_a_404(app, billing, other_invoice, auth, client):
    """The demo distributor's staff get 404 for another distributor's invoice, and their run
    neither lists nor removes it (numbers stay unique across both)."""
    result = _run(app, billing["org_id"])
    auth.login()
    assert client.get(f"/invoices/{other_invoice}").status_code == 404
    own = result["ids"][0]
    assert client.get(f"/invoices/{own}").status_code == 200
    listing = client.get(f"/invoices/?period={PERIOD}").get_data(as_text=True)
    assert "Other Reseller" not in listing
    with app.app_context():
        assert db.session.get(Invoice, other_invoice) is not None
        numbers = set(db.session.scalars(select(Invoice.number)))
    assert numbers == {f"INV-2026-10-000{n}" for n in range(1, 5)}


def test_a_tenants_users_get_404_for_invoices(app, billing, auth, client):
    """Invoices and the Separate Invoices switch are the distributor's: a tenant's users get 404."""
    with app.app_context():
        tenant = Organization(
            name="Northwind BSS", client_id="TENANT0001", parent_id=billing["org_id"]
        )
        db.session.add(tenant)
        db.session.flush()
        db.session.add(
            User(
                organization_id=tenant.id,
                username="nwadmin",
                password_hash=hash_password(OTHER_PASSWORD),
                role="admin",
            )
        )
        db.session.commit()
    invoice_id = _run(app, billing["org_id"])["ids"][0]
    assert auth.login("TENANT0001", "nwadmin", OTHER_PASSWORD).status_code == 302
    token = auth.token("/")
    assert "Invoices</a>" not in client.get("/", follow_redirects=True).get_data(as_text=True)
    assert client.get("/invoices/").status_code == 404
    assert client.get(f"/invoices/{invoice_id}").status_code == 404
    assert client.get(f"/invoices/print?period={PERIOD}").status_code == 404
    run = client.post("/invoices/run", data={"csrf_token": token, "period": PERIOD})
    assert run.status_code == 404
    switch = client.post(
        f"/accounts/{billing['alpha']}/separate-invoices",
        data={"csrf_token": token, "enabled": "0"},
    )
    assert switch.status_code == 404
    with app.app_context():
        assert db.session.get(Account, billing["alpha"]).separate_invoices is True


def test_cli_run_prints_a_summary(app, billing):
    """`flask invoices run --period 2026-10` makes the invoices and prints each one."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invoices", "run", "--period", PERIOD])
    assert result.exit_code == 0, result.output
    assert "Invoice run 2026-10: 3 invoice(s) to 2 reseller(s) with 5 line(s)" in result.output
    assert "total EUR 49.15" in result.output
    assert "INV-2026-10-0003  Tailspin IT" in result.output
    again = runner.invoke(args=["invoices", "run", "--period", PERIOD])
    assert "(0 new, 3 updated, 0 removed)" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3
        actors = db.session.scalars(
            select(AuditLog.actor_label).where(AuditLog.entity_type == "invoice_run")
        ).all()
    assert actors == ["system", "system"]


@pytest.mark.parametrize(
    "period,message",
    [
        ("2026-13", "The month must be between 01 and 12."),
        ("11/2026", "is not a period: use YYYY-MM"),
        ("2099-01", "January 2099 has not started yet"),
    ],
)
def test_cli_bad_period_exits_2(app, billing, period, message):
    """A bad --period stops the CLI with exit code 2 and a clear message, and bills nothing."""
    result = app.test_cli_runner().invoke(args=["invoices", "run", "--period", period])
    assert result.exit_code == 2
    assert "--period: " in result.output and message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
