"""Customers (accounts): create and edit with messages next to fields, for a tenant and for
the distributor; audit-logged; the readiness panel only on the distributor's resellers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import account_id
from tests.test_tenant_bss import create_tenant, sign_in_tenant, token_of
from webapp.extensions import db
from webapp.models import Account, AuditLog


@pytest.fixture
def tenant(app, demo, auth, client, run_jobs):
    """Northwind Cloud made a tenant; its administrator is signed in."""
    info = create_tenant(app, client, auth, run_jobs)
    sign_in_tenant(auth, info)
    return info


def _account(app, org_id: int, name: str) -> Account | None:
    with app.app_context():
        account = db.session.scalar(
            select(Account).where(Account.organization_id == org_id, Account.name == name)
        )
        if account is not None:
            db.session.expunge(account)
        return account


def test_tenant_creates_a_customer_and_sees_it_without_readiness(app, tenant, client):
    """A tenant's new customer is saved in the tenant's organization (never a reseller, even
    if the POST says so), logged, listed, and its page has no readiness or sync panels."""
    page = client.get("/accounts/new").get_data(as_text=True)
    assert "New customer" in page and 'name="is_reseller"' not in page
    response = client.post(
        "/accounts/new",
        data={
            "csrf_token": token_of(client, "/accounts/new"),
            "name": "Adatum Bakery",
            "email": "billing@adatum.example",
            "billing_currency": "EUR",
            "enabled_for_ordering": "y",
            "is_reseller": "y",
        },
    )
    assert response.status_code == 303
    account = _account(app, tenant["org_id"], "Adatum Bakery")
    assert account.email == "billing@adatum.example"
    assert account.enabled_for_ordering is True and account.is_reseller is False
    view = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Adatum Bakery created" in view and "Account Adatum Bakery created" in view
    assert "Tenant reseller readiness" not in view and "Provisioning platforms" not in view
    listing = client.get("/accounts/").get_data(as_text=True)
    assert "Adatum Bakery" in listing and "readiness" not in listing.lower()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the account&#39;s name."),
        ({"name": "x" * 201}, "name", "Use at most 200 characters."),
        ({"email": "not-an-email"}, "email", "Enter an email address like"),
        ({"billing_currency": "EURO"}, "billing_currency", "Choose a currency by its ISO 4217"),
    ],
)
def test_customer_validation_messages_are_next_to_their_fields(
    app, tenant, client, data, field, message
):
    """Each invalid field gets its message linked by aria-describedby; nothing is saved."""
    form = {"name": "Valid Name", "billing_currency": "EUR", **data}
    response = client.post(
        "/accounts/new", data={"csrf_token": token_of(client, "/accounts/new"), **form}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'aria-describedby="{field}-error"' in html or f'{field}-hint {field}-error"' in html
    assert f'id="{field}-error">{message}' in html
    with app.app_context():
        assert (
            db.session.scalar(select(Account.id).where(Account.organization_id == tenant["org_id"]))
            is None
        )


def test_tenant_edits_a_customer_and_duplicate_names_are_refused(app, tenant, client):
    """Editing changes only the form's fields and logs them before/after; a name another
    customer has is refused next to the name."""
    token = token_of(client, "/accounts/new")
    for name in ("Adatum Bakery", "Bellows College"):
        client.post(
            "/accounts/new", data={"csrf_token": token, "name": name, "billing_currency": "EUR"}
        )
    adatum = _account(app, tenant["org_id"], "Adatum Bakery")
    url = f"/accounts/{adatum.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Adatum Bakery"' in page
    clash = client.post(
        url, data={"csrf_token": token, "name": "Bellows College", "billing_currency": "EUR"}
    )
    assert clash.status_code == 400
    assert 'id="name-error">You already have an account named Bellows College.' in (
        clash.get_data(as_text=True)
    )
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Adatum Bakeries",
            "billing_currency": "USD",
            "enabled_for_ordering": "y",
        },
    )
    assert saved.status_code == 303
    after = _account(app, tenant["org_id"], "Adatum Bakeries")
    assert (after.id, after.billing_currency, after.enabled_for_ordering) == (
        adatum.id,
        "USD",
        True,
    )
    with app.app_context():
        log = db.session.scalar(
            select(AuditLog).where(
                AuditLog.action == "account.update", AuditLog.entity_id == adatum.id
            )
        )
        assert log.before == {
            "name": "Adatum Bakery",
            "billing_currency": "EUR",
            "enabled_for_ordering": False,
        }
        assert log.after == {
            "name": "Adatum Bakeries",
            "billing_currency": "USD",
            "enabled_for_ordering": True,
        }


def test_distributor_creates_a_reseller_and_its_page_has_readiness(app, demo, auth, client):
    """The distributor's form has the reseller flag; a reseller's page shows the readiness
    panel, a plain customer's page does not."""
    auth.login()
    page = client.get("/accounts/new").get_data(as_text=True)
    assert 'name="is_reseller"' in page
    token = token_of(client, "/accounts/new")
    for name, reseller in (("Woodgrove Cloud", "y"), ("Plain Customer", None)):
        data = {"csrf_token": token, "name": name, "billing_currency": "EUR"}
        if reseller:
            data["is_reseller"] = reseller
        assert client.post("/accounts/new", data=data).status_code == 303
    reseller = _account(app, demo, "Woodgrove Cloud")
    plain = _account(app, demo, "Plain Customer")
    assert reseller.is_reseller is True and plain.is_reseller is False
    assert "Tenant reseller readiness" in client.get(f"/accounts/{reseller.id}").get_data(
        as_text=True
    )
    assert "Tenant reseller readiness" not in client.get(f"/accounts/{plain.id}").get_data(
        as_text=True
    )
    # The existing readiness of a seeded reseller still shows.
    northwind = client.get(f"/accounts/{account_id(app, 'Northwind Cloud')}")
    assert "Ready to become a tenant reseller" in northwind.get_data(as_text=True)


def test_distributor_edits_the_reseller_flag(app, demo, auth, client):
    """The distributor can switch an account's reseller flag; the change is logged."""
    auth.login()
    litware = account_id(app, "Litware Inc")
    url = f"/accounts/{litware}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": "Litware Inc",
            "email": "billing@litware.example",
            "billing_currency": "EUR",
            "enabled_for_ordering": "y",
            "is_reseller": "y",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Account, litware).is_reseller is True
        log = db.session.scalar(select(AuditLog).where(AuditLog.entity_id == litware))
        assert log.before == {"is_reseller": False} and log.after == {"is_reseller": True}


def test_all_accounts_means_every_account(app, demo, auth, client):
    """ "All accounts" used to leave out the resellers' customers (they appeared only under
    another filter): the default is now named for what it shows, and All accounts lists every
    account, sub-customers included."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Account

    with app.app_context():
        reseller = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        db.session.add(
            Account(
                organization_id=demo,
                name="Sub-customer of Northwind",
                billing_currency="EUR",
                parent_account_id=reseller.id,
            )
        )
        db.session.commit()
    auth.login()
    default = client.get("/accounts/").get_data(as_text=True)
    assert "Your customers and resellers" in default
    assert "Sub-customer of Northwind" not in default
    everything = client.get("/accounts/?filter=everything").get_data(as_text=True)
    assert "Sub-customer of Northwind" in everything and "Northwind Cloud" in everything
    sub = client.get("/accounts/?filter=sub").get_data(as_text=True)
    assert "Sub-customer of Northwind" in sub and ">Northwind Cloud<" not in sub
