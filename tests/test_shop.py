"""End customers on a tenant's storefront: sign up, cart, order, subscriptions, isolation."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.helpers import submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    Order,
    Organization,
    Product,
    Storefront,
    Subscription,
)

STORE = "/store/northwind-cloud"


def _tenant(app, demo, auth, client, run_jobs, account="Northwind Cloud", **overrides):
    if client.get("/login").status_code == 200:  # not signed in yet
        auth.login()
    submit_creation(client, app, account=account, **overrides)
    run_jobs()
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == account))
        storefront = db.session.scalar(Storefront.in_org(org.id))
        product = db.session.scalar(
            Product.in_org(org.id).where(Product.name == "Microsoft 365 Business Basic")
        )
        return org.id, storefront.slug, product.id


def _post(c, url, data=None, form_url=None):
    token = csrf_from(c.get(form_url or url, follow_redirects=True).get_data(as_text=True))
    return c.post(url, data={"csrf_token": token, **(data or {})})


def _sign_up(c, store, email="buyer@example.com"):
    return _post(
        c,
        f"{store}/signup",
        {
            "name": "Buyer GmbH",
            "email": email,
            "password": "buyer-password-1",
            "password_again": "buyer-password-1",
        },
    )


def test_end_customer_signs_up_orders_changes_and_cancels(app, demo, auth, client, run_jobs):
    """The whole end-customer story, with an order and a domain event for each change."""
    org_id, slug, product_id = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shopper = app.test_client()
    assert _sign_up(shopper, store).status_code == 302
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.name == "Buyer GmbH"))
        assert account.organization_id == org_id and account.enabled_for_ordering
    added = _post(shopper, f"{store}/cart/add/{product_id}", {"quantity": "3"}, f"{store}/cart")
    assert added.status_code == 303
    cart = shopper.get(f"{store}/cart").get_data(as_text=True)
    assert "Microsoft 365 Business Basic" in cart
    placed = _post(shopper, f"{store}/checkout", form_url=f"{store}/cart")
    assert placed.status_code == 303
    page = shopper.get(f"{store}/account").get_data(as_text=True)
    assert "Thank you! Order SO-" in page and "Microsoft 365 Business Basic" in page
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.organization_id == org_id))
        assert (sub.quantity, sub.status, sub.organization_id) == (3, "Active", org_id)
        source_cost = db.session.scalar(select(Product.cost_price).where(Product.id == product_id))
        assert sub.unit_price == source_cost  # the Default list starts at cost
        events = db.session.scalars(select(DomainEvent)).all()
        assert [e.kind for e in events] == ["subscription.created"]
        sub_id = sub.id

    changed = _post(
        shopper, f"{store}/subscriptions/{sub_id}/quantity", {"quantity": "5"}, f"{store}/account"
    )
    assert changed.status_code == 303
    # Cancelling asks once more: the account page links to a confirmation, not a one-click form.
    account_page = shopper.get(f"{store}/account").get_data(as_text=True)
    assert f"{store}/subscriptions/{sub_id}/cancel" in account_page
    confirm_page = shopper.get(f"{store}/subscriptions/{sub_id}/cancel")
    assert confirm_page.status_code == 200
    assert "Cancel Microsoft 365 Business Basic?" in confirm_page.get_data(as_text=True)
    unconfirmed = _post(
        shopper, f"{store}/subscriptions/{sub_id}/cancel", form_url=f"{store}/account"
    )
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm the cancellation." in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Subscription, sub_id).status == "Active"
    cancelled = _post(
        shopper,
        f"{store}/subscriptions/{sub_id}/cancel",
        {"confirm": "yes"},
        form_url=f"{store}/subscriptions/{sub_id}/cancel",
    )
    assert cancelled.status_code == 303
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        assert (sub.quantity, sub.status) == (5, "Cancelled")
        kinds = db.session.scalars(select(Order.kind).order_by(Order.id)).all()
        assert kinds == ["New", "Change", "Cancellation"]
        events = db.session.scalars(select(DomainEvent.kind).order_by(DomainEvent.id)).all()
        assert events == ["subscription.created", "subscription.updated", "subscription.cancelled"]
        assert (
            db.session.scalar(select(func.count(func.distinct(DomainEvent.idempotency_key)))) == 3
        )

    # the tenant sees its customers, orders and subscriptions in its BSS
    with app.app_context():
        client_id = db.session.get(Organization, org_id).client_id
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login(client_id=client_id, username="nwadmin", password="correct-horse-battery")
    assert "Buyer GmbH" in client.get("/accounts/").get_data(as_text=True)
    orders = client.get("/orders").get_data(as_text=True)
    assert orders.count("SO-") == 3 and "Cancellation" in orders
    assert "Microsoft 365 Business Basic" in client.get("/subscriptions").get_data(as_text=True)


def test_checkout_requires_sign_in_and_keeps_the_cart(app, demo, auth, client, run_jobs):
    """An anonymous shopper is sent to sign in; after signing up the cart is still there."""
    _org_id, slug, product_id = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shopper = app.test_client()
    _post(shopper, f"{store}/cart/add/{product_id}", {"quantity": "2"}, f"{store}/cart")
    response = _post(shopper, f"{store}/checkout", form_url=f"{store}/cart")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    _sign_up(shopper, store)
    assert "Microsoft 365 Business Basic" in shopper.get(f"{store}/cart").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_bad_input_is_refused_with_messages(app, demo, auth, client, run_jobs):
    """Short password, mismatched passwords, taken email, bad quantity: messages, nothing saved."""
    _org_id, slug, product_id = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shopper = app.test_client()
    bad = _post(
        shopper,
        f"{store}/signup",
        {"name": "X", "email": "x@example.com", "password": "short", "password_again": "short"},
    )
    assert bad.status_code == 400 and "at least 12 characters" in bad.get_data(as_text=True)
    _sign_up(shopper, store)
    other = app.test_client()
    taken = _sign_up(other, store)
    assert taken.status_code == 400
    assert "already exists" in taken.get_data(as_text=True)
    for quantity in ("0", "-1", "abc", "10001"):
        response = _post(
            shopper, f"{store}/cart/add/{product_id}", {"quantity": quantity}, f"{store}/cart"
        )
        assert response.status_code == 400
        assert "Choose a quantity from 1 to 10,000." in response.get_data(as_text=True)
    assert "Your cart is empty." in shopper.get(f"{store}/cart").get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Account).where(Account.name == "X"))
            == 0
        )


def test_customers_of_one_tenant_see_nothing_of_another(app, demo, auth, client, run_jobs):
    """Tenant A's customer is nobody at tenant B, and B's subscription ids are 404 at A."""
    _a, slug_a, product_a = _tenant(app, demo, auth, client, run_jobs)
    _b, slug_b, product_b = _tenant(
        app,
        demo,
        auth,
        client,
        run_jobs,
        account="Tailspin IT",
        price_list_name="Microsoft only EUR",
    )
    store_a, store_b = f"/store/{slug_a}", f"/store/{slug_b}"
    alice, bob = app.test_client(), app.test_client()
    _sign_up(alice, store_a, "alice@example.com")
    _sign_up(bob, store_b, "bob@example.com")
    _post(bob, f"{store_b}/cart/add/{product_b}", {"quantity": "1"}, f"{store_b}/cart")
    _post(bob, f"{store_b}/checkout", form_url=f"{store_b}/cart")
    with app.app_context():
        bob_sub = db.session.scalar(
            select(Subscription.id).where(Subscription.organization_id == _b)
        )
    # Alice is signed in at A only
    assert alice.get(f"{store_b}/account").status_code == 302
    # B's subscription through A's store, and B's product in A's cart: 404
    token = csrf_from(alice.get(f"{store_a}/account").get_data(as_text=True))
    assert (
        alice.post(
            f"{store_a}/subscriptions/{bob_sub}/cancel", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        alice.post(f"{store_a}/cart/add/{product_b}", data={"csrf_token": token}).status_code == 404
    )
    # a customer session is not a staff session
    assert alice.get("/accounts/").status_code == 302
    with app.app_context():
        assert db.session.get(Subscription, bob_sub).status == "Active"


def test_customer_login_is_separate_and_throttled(app, demo, auth, client, run_jobs):
    """Wrong passwords get one message for every case; the sixth try is throttled."""
    _org_id, slug, _product = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    _sign_up(app.test_client(), store)
    shopper = app.test_client()
    for _ in range(5):
        r = _post(
            shopper,
            f"{store}/login",
            {"email": "buyer@example.com", "password": "wrong-password-x"},
        )
        assert r.status_code == 401 and "The email or password is not correct." in r.get_data(
            as_text=True
        )
    r = _post(
        shopper, f"{store}/login", {"email": "buyer@example.com", "password": "buyer-password-1"}
    )
    assert r.status_code == 429
    assert re.search(r"store_session=", r.headers.get("Set-Cookie", "")) is None
