"""Small helpers shared by tests: look rows up by name, submit the creation form."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.models import Account, PriceList, TenantReseller

GOOD_PASSWORD = "correct-horse-battery"


def account_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Account.id).where(Account.name == name))


def price_list_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(PriceList.id).where(PriceList.name == name))


def creation_form(app, price_list_name="Partner EUR", **overrides) -> dict:
    data = {
        "price_list": str(price_list_id(app, price_list_name)),
        "language": "de",
        "timezone": "Europe/Berlin",
        "date_format": "dd.MM.yyyy",
        "edition": "Premium",
        "separate_invoices": "y",
        "admin_username": "nwadmin",
        "admin_email": "admin@northwind.example",
        "admin_password": GOOD_PASSWORD,
        "admin_password_again": GOOD_PASSWORD,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def creation_url(app, account="Northwind Cloud") -> str:
    return f"/accounts/{account_id(app, account)}/tenant-reseller/new"


def open_creation_form(client, app, account="Northwind Cloud") -> str:
    """GET the form like a browser; returns its CSRF token."""
    return csrf_from(client.get(creation_url(app, account)).get_data(as_text=True))


def post_creation(client, app, token, account="Northwind Cloud", **overrides):
    data = creation_form(app, **overrides)
    data["csrf_token"] = token
    return client.post(creation_url(app, account), data=data)


def submit_creation(client, app, account="Northwind Cloud", **overrides):
    """GET the form (for its CSRF token), then POST it like a browser does."""
    token = open_creation_form(client, app, account)
    return post_creation(client, app, token, account, **overrides)


def activate_back_ordering(app, tenant_id: int, run_jobs) -> None:
    """Queue the activation process (as the confirmed form does) and run it on a worker."""
    from webapp.services import backordering

    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        backordering.start_activation(tenant, None)
    run_jobs()


def place_demo_orders(app, organization_id: int, customer="Adatum Corporation") -> dict:
    """Through the commerce service, a customer of the organization orders 2 × one product
    and 1 × another (New), raises the first to 5 (Change, +3) and cancels the second
    (Cancellation); returns the ids of the three orders and the first subscription."""
    from webapp.models import Order, Product, Subscription
    from webapp.services import commerce

    with app.app_context():
        account = db.session.scalar(
            select(Account).where(
                Account.organization_id == organization_id, Account.name == customer
            )
        )
        price_list = db.session.scalar(
            PriceList.in_org(organization_id).where(PriceList.currency == account.billing_currency)
        )
        products = db.session.scalars(
            Product.in_org(organization_id).order_by(Product.sku).limit(40)
        ).all()
        picks = [p for p in products if commerce.price_of(price_list, p.id)][:2]
        lines = commerce.cart_lines(
            organization_id, price_list, {str(picks[0].id): 2, str(picks[1].id): 1}
        )
        new = commerce.place_order(account, price_list, lines)
        first, second = (db.session.get(Subscription, line.subscription_id) for line in new.lines)
        change = commerce.change_quantity(first, 5)
        cancellation = commerce.cancel(second)
        ids = {
            "new": new.id,
            "change": change.id,
            "cancellation": cancellation.id,
            "subscription": first.id,
            "account": account.id,
        }
        assert db.session.get(Order, ids["new"]).kind == "New"
        return ids
