"""Every form fuzzed with hypothesis: never a 500, and nothing written when rejected."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.helpers import account_id, submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Organization,
    Process,
    StoreCustomer,
    TenantReseller,
    User,
)

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9" * 30,
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "Europe/Athens",
            "Premium",
            "dd/MM/yyyy",
            "a@b.c",
            "\x00",
            "ü" * 300,
        ]
    ),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _counts(app) -> dict:
    with app.app_context():
        return {
            m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Account, TenantReseller, Process, AuditLog, User, StoreCustomer, Organization)
        }


def _fuzz(app, client, form_url: str, post_url: str, fields: list[str], data_strategy):
    @FUZZ
    @given(data_strategy(fields))
    def run(values):
        token = csrf_from(client.get(form_url).get_data(as_text=True))
        before = _counts(app)
        response = client.post(post_url, data={"csrf_token": token, **values})
        assert response.status_code < 500, values
        if response.status_code >= 400:
            assert _counts(app) == before, values

    run()


def _fields(names):
    return st.fixed_dictionaries({name: TEXT for name in names})


def test_sign_in_form(app, demo, client):
    """Random Client IDs, usernames and passwords: 400/401/429, never 500, nothing written."""
    app.config["LOGIN_RATE_LIMIT_USER"] = "1000 per minute"
    app.config["LOGIN_RATE_LIMIT_IP"] = "1000 per minute"
    _fuzz(app, client, "/login", "/login", ["client_id", "username", "password"], _fields)


def test_create_tenant_reseller_form(app, demo, auth, client):
    """Random values in every field of the creation form create nothing."""
    auth.login()
    url = f"/accounts/{account_id(app, 'Northwind Cloud')}/tenant-reseller/new"
    fields = [
        "price_list",
        "language",
        "timezone",
        "date_format",
        "edition",
        "separate_invoices",
        "admin_username",
        "admin_email",
        "admin_password",
        "admin_password_again",
    ]
    _fuzz(app, client, url, url, fields, _fields)


def test_account_actions(app, demo, auth, client):
    """Random values posted to the account's ordering switch and platform sync."""
    auth.login()
    account = account_id(app, "Tailspin IT")
    view = f"/accounts/{account}"
    _fuzz(
        app, client, view, f"{view}/sync", ["platform_id", "status", "external_reference"], _fields
    )
    _fuzz(app, client, view, f"{view}/ordering", ["enabled"], _fields)


@pytest.fixture
def storefront(app, demo, auth, client, run_jobs):
    auth.login()
    submit_creation(client, app)
    run_jobs()
    return "/store/northwind-cloud"


def test_storefront_sign_up_and_sign_in(app, storefront):
    """Random sign-ups and sign-ins on a tenant's storefront."""
    app.config["LOGIN_RATE_LIMIT_USER"] = "1000 per minute"
    shopper = app.test_client()
    _fuzz(
        app,
        shopper,
        f"{storefront}/signup",
        f"{storefront}/signup",
        ["name", "email", "password", "password_again"],
        _fields,
    )
    _fuzz(
        app, shopper, f"{storefront}/login", f"{storefront}/login", ["email", "password"], _fields
    )


def test_storefront_cart(app, storefront):
    """Random quantities for the cart never break it."""
    with app.app_context():
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.parent_id.is_not(None))
        )
        from webapp.models import Product

        product = db.session.scalar(select(Product.id).where(Product.organization_id == org_id))
    shopper = app.test_client()
    _fuzz(
        app,
        shopper,
        f"{storefront}/cart",
        f"{storefront}/cart/add/{product}",
        ["quantity"],
        _fields,
    )
    _fuzz(
        app, shopper, f"{storefront}/cart", f"{storefront}/cart/update", [f"qty-{product}"], _fields
    )


def test_separate_invoices_switch(app, demo, auth, client):
    """Random values for the tenant reseller's Separate Invoices switch."""
    auth.login()
    submit_creation(client, app)
    with app.app_context():
        tenant_id = db.session.scalar(select(TenantReseller.id))
    page = f"/tenant-resellers/{tenant_id}"
    _fuzz(app, client, page, f"{page}/separate-invoices", ["separate_invoices"], _fields)
