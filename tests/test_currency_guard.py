"""An active tenant's account keeps the rule "its price list is in the currency it is
billed in": its billing currency changes only with a price list in the new currency, and
then a queued, audited Update Tenant (Partial) re-prices the tenant's cost prices."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.helpers import account_id, price_list_id, submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    PriceListItem,
    Process,
    Product,
    TenantReseller,
)


@pytest.fixture
def tenant_id(app, demo, auth, client, run_jobs) -> int:
    """Northwind Cloud (billed in EUR) as an Active tenant on Partner EUR."""
    auth.login()
    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        row = db.session.scalar(select(TenantReseller))
        assert row.status == "Active"
        return row.id


def edit(client, app, account="Northwind Cloud", **changes):
    url = f"/accounts/{account_id(app, account)}/edit"
    page = client.get(url).get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "name": account,
        "email": "",
        "billing_currency": "EUR",
        "enabled_for_ordering": "y",
        "is_reseller": "y",
        **changes,
    }
    return client.post(url, data=data)


def state(app) -> tuple[str, str, int]:
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        tenant = db.session.scalar(select(TenantReseller))
        processes = db.session.scalar(
            select(db.func.count()).select_from(Process).where(Process.kind == "update_tenant")
        )
        return account.billing_currency, tenant.price_list.name, processes


def test_the_currency_cannot_change_alone(app, client, tenant_id):
    """USD without a USD price list is refused with the reason; nothing changes."""
    page = client.get(f"/accounts/{account_id(app, 'Northwind Cloud')}/edit").get_data(as_text=True)
    assert "Tenant reseller's price list, if the billing currency changes" in page
    response = edit(client, app, billing_currency="USD")
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "To bill it in USD, choose a price list in USD too" in html
    assert state(app) == ("EUR", "Partner EUR", 0)

    wrong = edit(
        client, app, billing_currency="USD", tenant_price_list=price_list_id(app, "Partner EUR")
    )
    assert wrong.status_code == 400
    assert state(app) == ("EUR", "Partner EUR", 0)


def test_with_a_price_list_in_the_new_currency_the_tenant_is_repriced(
    app, client, tenant_id, run_jobs
):
    """USD together with Partner USD: saved, audited, and a Partial Update Tenant makes the
    tenant's cost prices Partner USD's retail prices."""
    usd = price_list_id(app, "Partner USD")
    response = edit(client, app, billing_currency="USD", tenant_price_list=usd)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cost prices are being re-priced" in page
    assert state(app) == ("USD", "Partner USD", 1)
    run_jobs()
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "update_tenant"))
        assert process.status == "Completed" and process.params["mode"] == "partial"
        tenant = db.session.get(TenantReseller, tenant_id)
        usd_prices = dict(
            db.session.execute(
                select(PriceListItem.product_id, PriceListItem.retail_price).where(
                    PriceListItem.price_list_id == usd
                )
            ).all()
        )
        copies = db.session.scalars(
            Product.in_org(tenant.tenant_organization_id).where(
                Product.source_product_id.in_(usd_prices)
            )
        ).all()
        assert copies
        assert all(c.cost_price == usd_prices[c.source_product_id] for c in copies)
        assert db.session.scalar(
            select(AuditLog.id).where(AuditLog.action == "tenant_reseller.price_list")
        )


def test_an_account_without_a_tenant_changes_currency_freely(app, client, tenant_id):
    """The rule is about tenants: Tailspin IT (no tenant) changes its currency at once."""
    response = edit(client, app, account="Tailspin IT", billing_currency="USD")
    assert response.status_code == 303
    with app.app_context():
        tailspin = db.session.scalar(select(Account).where(Account.name == "Tailspin IT"))
        assert tailspin.billing_currency == "USD"
