"""Access rules over every route: signed out → sign-in; another organization's ids → 404."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Order,
    OrderLine,
    Organization,
    PriceList,
    PriceListItem,
    Process,
    ProcessTask,
    Product,
    TenantReseller,
    User,
)
from webapp.services.passwords import hash_password

PUBLIC = {
    "auth.login",
    "static",
    "home.favicon",  # the tab icon, asked for by the browser on the sign-in page too
    "ops.healthz",
    "ops.readyz",
    "ops.metrics",
    "ops.tls_ask",
    # Signing in: the second step, and the pages reached from emailed links.
    "auth.two_factor",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
    "auth.unlock",
}
# Public on purpose: the storefront and its media, and the API (token auth, tested on its own).
PUBLIC_BLUEPRINTS = ("storefront.", "media.", "api.", "rq_dashboard.static")


def _rules(app):
    """Every BSS route; the storefront and media are public and tested on their own."""
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC and not r.endpoint.startswith(PUBLIC_BLUEPRINTS)
    ]


# rq-dashboard's own parameters (not organization data): any valid value will do.
DASHBOARD_PARAMS = {
    "instance_number": 0,
    "queue_name": "processes",
    "registry_name": "queued",
    "per_page": 10,
    "order": "asc",
    "page": 1,
    "job_id": "none",
    "token": "no-such-token",  # the emailed links' tokens (reset, invitation, unlock)
    "key": "branding",  # a playbook item
}


def _substitute(path: str, ids: dict) -> str:
    for name, value in {**ids, "action": "retry", **DASHBOARD_PARAMS}.items():
        path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    # Any other id parameter: one that exists nowhere must look the same (404).
    path = re.sub(r"<int:[a-z_]+>", "999999", path)
    assert "<" not in path, f"no test value for a parameter in {path}: add it to the table"
    return path


@pytest.fixture
def other_org(app, demo):
    """A second distributor with one of everything, which DEMO's staff must never reach."""
    with app.app_context():
        org = Organization(name="Other Distributor", client_id="OTHER")
        db.session.add(org)
        db.session.flush()
        db.session.add(
            User(
                organization_id=org.id,
                username="admin",
                password_hash=hash_password("other-password-123"),
                role="admin",
            )
        )
        account = Account(
            organization_id=org.id,
            name="Other Reseller",
            is_reseller=True,
            enabled_for_ordering=True,
        )
        price_list = PriceList(organization_id=org.id, name="Other EUR", currency="EUR")
        db.session.add_all([account, price_list])
        db.session.flush()
        platform_id = db.session.scalar(select(Product.platform_id).limit(1))
        product = Product(organization_id=org.id, platform_id=platform_id, sku="X-1", name="X")
        db.session.add(product)
        db.session.flush()
        db.session.add(
            PriceListItem(
                organization_id=org.id,
                price_list_id=price_list.id,
                product_id=product.id,
                retail_price=1,
            )
        )
        tenant = TenantReseller(
            organization_id=org.id,
            account_id=account.id,
            price_list_id=price_list.id,
            language="en",
            timezone="UTC",
            date_format="yyyy-MM-dd",
            edition="Basic",
            admin_username="x",
            admin_email="x@example.com",
        )
        db.session.add(tenant)
        db.session.flush()
        process = Process(
            organization_id=org.id, name="Other process", tenant_reseller_id=tenant.id
        )
        process.tasks = [ProcessTask(position=1, step="activate", title="Activate")]
        db.session.add(process)
        order = Order(
            organization_id=org.id,
            number="SO-OTHER",
            account_id=account.id,
            currency="EUR",
            total=1,
        )
        order.lines.append(OrderLine(product_id=product.id, quantity=1, unit_price=1))
        db.session.add(order)
        db.session.commit()
        return {
            "account_id": account.id,
            "price_list_id": price_list.id,
            "tenant_id": tenant.id,
            "process_id": process.id,
            "product_id": product.id,
            "order_id": order.id,
        }


def test_every_route_redirects_to_sign_in_when_signed_out(app, other_org, client):
    """Deny by default: no page, fragment or action is reachable without signing in."""
    for rule in _rules(app):
        path = _substitute(rule.rule, other_org)
        if "GET" in rule.methods:
            response = client.get(path)
            if response.status_code == 308:  # Werkzeug's canonical-slash redirect comes first
                response = client.get(response.headers["Location"])
            assert response.status_code == 302, path
            assert "/login" in response.headers["Location"], path
        if "POST" in rule.methods:
            response = client.post(path, data={})
            assert response.status_code in (302, 400), path


def _counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Account, TenantReseller, Process, AuditLog, User, Organization)
    }


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_another_organizations_ids_are_404_on_every_route(app, other_org, auth, client, role):
    """Signed in as DEMO (admin or staff), every route given OTHER's ids is 404, writes nothing."""
    if role == "staff":
        with app.app_context():
            demo_id = db.session.scalar(
                select(Organization.id).where(Organization.client_id == "DEMO")
            )
            db.session.add(
                User(
                    organization_id=demo_id,
                    username="clerk",
                    role="staff",
                    password_hash=hash_password("clerk-password-123"),
                )
            )
            db.session.commit()
        auth.login(username="clerk", password="clerk-password-123")
    else:
        auth.login()
    token = csrf_from(client.get("/accounts/").get_data(as_text=True))
    with app.app_context():
        before = _counts()
        other_account = db.session.get(Account, other_org["account_id"])
        enabled_before = other_account.enabled_for_ordering
    checked = 0
    for rule in _rules(app):
        if not rule.arguments or rule.endpoint.startswith("rq_dashboard."):
            continue  # the dashboard shows the queue, not organization rows
        path = _substitute(rule.rule, other_org)
        if "GET" in rule.methods:
            assert client.get(path).status_code in (403, 404), path
            checked += 1
        if "POST" in rule.methods:
            response = client.post(
                path,
                data={
                    "csrf_token": token,
                    "enabled": "0",
                    "separate_invoices": "1",
                    "platform_id": "1",
                    "status": "synced",
                },
            )
            assert response.status_code in (403, 404), path  # 403: admin-only for staff
            checked += 1
    assert checked >= 10
    with app.app_context():
        assert _counts() == before
        assert (
            db.session.get(Account, other_org["account_id"]).enabled_for_ordering == enabled_before
        )


def test_unknown_ids_are_404_too(app, demo, auth, client):
    """An id that exists nowhere looks the same as another organization's."""
    auth.login()
    for path in (
        "/accounts/999999",
        "/price-lists/999999",
        "/processes/999999",
        "/tenant-resellers/999999",
    ):
        assert client.get(path).status_code == 404, path


def test_every_state_changing_request_needs_the_csrf_token(app, demo, auth, client, run_jobs):
    """Every POST of the BSS and the storefront, without its token, is a 400 that writes nothing.

    (The API uses bearer tokens, not cookies; rq-dashboard's POSTs are origin-checked.)"""
    from tests.helpers import submit_creation

    auth.login()
    submit_creation(client, app)
    run_jobs()  # the tenant and its storefront exist, so every route reaches its CSRF check
    with app.app_context():
        ids = {
            "account_id": db.session.scalar(
                select(Account.id).where(Account.name == "Fabrikam Ltd")
            ),
            "price_list_id": db.session.scalar(select(PriceList.id)),
            "tenant_id": db.session.scalar(select(TenantReseller.id)),
            "process_id": db.session.scalar(select(Process.id)),
            "product_id": db.session.scalar(select(Product.id)),
        }
        before = _counts()
    posts = [
        r
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and not r.endpoint.startswith(("api.", "rq_dashboard.", "static"))
    ]
    assert len(posts) >= 10
    for rule in posts:
        path = _substitute(rule.rule.replace("<slug>", "northwind-cloud"), ids)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(path, data={"enabled": "1", "confirm": "yes"}, headers=headers)
            assert response.status_code == 400, (path, response.status_code)
    with app.app_context():
        assert _counts() == before
