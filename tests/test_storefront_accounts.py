"""Storefront customers' sessions and passwords: sign-out revokes the session on the server,
forgot password by an emailed single-use expiring link, change password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import Auth, csrf_from
from tests.helpers import submit_creation
from tests.mailbox import all_emails, emails_to, link_in
from webapp.extensions import db
from webapp.models import (
    OneTimeToken,
    Organization,
    Product,
    StoreCustomerSession,
    Storefront,
    Subscription,
    utcnow,
)

STORE = "/store/northwind-cloud"
PASSWORD = "alice-password-123"
NEW_PASSWORD = "violet-harbour-lantern"
RESET_ANSWER = "If alice@example.com belongs to an account of this store"


def _post(client, url, data=None, form_url=None):
    page = client.get(form_url or url, follow_redirects=True)
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(True)), **(data or {})})


def _sign_in(client, email="alice@example.com", password=PASSWORD):
    return _post(client, f"{STORE}/login", {"email": email, "password": password})


@pytest.fixture
def alice(app, demo, run_jobs):
    """Northwind Cloud's storefront with the customer Alice, who has one subscription; returns
    Alice's signed-in test client and the subscription id."""
    staff = app.test_client()
    Auth(staff).login()
    submit_creation(staff, app)
    run_jobs()
    shopper = app.test_client()
    signed_up = _post(
        shopper,
        f"{STORE}/signup",
        {
            "name": "Alice",
            "email": "alice@example.com",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert signed_up.status_code == 302
    with app.app_context():
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.name == "Northwind Cloud")
        )
        product_id = db.session.scalar(Product.in_org(org_id).with_only_columns(Product.id))
    _post(shopper, f"{STORE}/cart/add/{product_id}", {"quantity": "2"}, f"{STORE}/cart")
    assert _post(shopper, f"{STORE}/checkout", form_url=f"{STORE}/cart").status_code == 303
    with app.app_context():
        sub_id = db.session.scalar(
            select(Subscription.id).where(Subscription.organization_id == org_id)
        )
    return shopper, sub_id


def test_sign_out_revokes_the_session_on_the_server(app, alice):
    """A copy of the cookie saved before sign-out neither reads the account nor changes a
    quantity afterwards."""
    shopper, sub_id = alice
    saved = shopper.get_cookie("store_session").value
    assert shopper.get(f"{STORE}/account").status_code == 200
    token = csrf_from(shopper.get(f"{STORE}/account").get_data(True))
    assert shopper.post(f"{STORE}/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("store_session", saved)
    account = thief.get(f"{STORE}/account")
    assert account.status_code == 302 and account.headers["Location"].endswith("/login")
    page = thief.get(f"{STORE}/cart")
    changed = thief.post(
        f"{STORE}/subscriptions/{sub_id}/quantity",
        data={"csrf_token": csrf_from(page.get_data(True)), "quantity": "7"},
    )
    assert changed.status_code == 404
    with app.app_context():
        assert db.session.get(Subscription, sub_id).quantity == 2
        assert db.session.scalar(select(StoreCustomerSession.revoked_at)) is not None


def test_a_forged_or_old_style_cookie_is_nobody(app, alice):
    """Only a live server-side session identifies a customer: the customer id of the old
    cookie format means nothing."""
    from webapp.storefront.customer_session import _serializer

    shopper, _sub = alice
    with app.app_context():
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.name == "Northwind Cloud")
        )
    with app.test_request_context():
        forged = _serializer().dumps({str(org_id): {"customer_id": 1}})
    other = app.test_client()
    other.set_cookie("store_session", forged)
    assert other.get(f"{STORE}/account").status_code == 302


def test_signing_in_again_gives_a_new_session(app, alice):
    """Each sign-in starts a new server-side session; the one before is revoked."""
    shopper, _sub = alice
    _sign_in(shopper)
    with app.app_context():
        rows = db.session.scalars(select(StoreCustomerSession)).all()
        assert len(rows) == 2 and sum(r.revoked_at is None for r in rows) == 1
    assert shopper.get(f"{STORE}/account").status_code == 200


def _forgot(client, email="alice@example.com"):
    return _post(client, f"{STORE}/forgot-password", {"email": email})


def test_forgot_password_link_sets_a_new_password_once(app, alice):
    """The emailed link sets a new password, signs out every browser, and works once."""
    shopper, _sub = alice
    visitor = app.test_client()
    answer = _forgot(visitor)
    assert answer.status_code == 303
    assert RESET_ANSWER in visitor.get(f"{STORE}/login").get_data(True)
    [email] = emails_to(app, "alice@example.com")
    path = link_in(email.body, f"{STORE}/reset-password/")
    done = _post(visitor, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 303
    assert shopper.get(f"{STORE}/account").status_code == 302  # signed out
    assert _sign_in(app.test_client()).status_code == 401
    assert _sign_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    again = visitor.get(path)
    assert again.status_code == 404 and "already used" in again.get_data(True)


def test_an_expired_store_reset_link_is_refused(app, alice):
    """Past its hour the link says it expired and offers a new one."""
    _forgot(app.test_client())
    path = link_in(emails_to(app, "alice@example.com")[0].body, "/reset-password/")
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    page = app.test_client().get(path)
    assert page.status_code == 404
    assert "This link has expired." in page.get_data(True)
    assert "Ask for a new link" in page.get_data(True)


def test_an_unknown_address_gets_the_same_answer(app, alice):
    """Nobody learns from the page whether an address has an account at this store."""
    visitor = app.test_client()
    assert _forgot(visitor, "nobody@example.com").status_code == 303
    page = visitor.get(f"{STORE}/login").get_data(True)
    assert "If nobody@example.com belongs to an account of this store" in page
    assert all(e.to_address != "nobody@example.com" for e in all_emails(app))


def test_a_reset_link_of_one_store_does_not_work_at_another(app, alice, demo, run_jobs):
    """The link belongs to the store that sent it."""
    staff = app.test_client()
    Auth(staff).login()
    assert (
        submit_creation(
            staff, app, account="Contoso Lite", price_list_name="Partner USD"
        ).status_code
        == 303
    )
    run_jobs()
    _forgot(app.test_client())
    path = link_in(emails_to(app, "alice@example.com")[0].body, "/reset-password/")
    with app.app_context():
        slugs = db.session.scalars(select(Storefront.slug)).all()
    [other] = [s for s in slugs if s != "northwind-cloud"]
    assert app.test_client().get(path.replace("northwind-cloud", other)).status_code == 404
    assert app.test_client().get(path).status_code == 200


def test_change_password_signs_out_other_browsers(app, alice):
    """The customer changes their password with the current one; other browsers end."""
    shopper, _sub = alice
    laptop = app.test_client()
    assert _sign_in(laptop).status_code == 302
    wrong = _post(
        shopper,
        f"{STORE}/account/password",
        {"current_password": "nope", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert wrong.status_code == 400 and "The current password is not correct." in wrong.get_data(
        True
    )
    done = _post(
        shopper,
        f"{STORE}/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert shopper.get(f"{STORE}/account").status_code == 200
    assert laptop.get(f"{STORE}/account").status_code == 302
    assert "Change your password" in shopper.get(f"{STORE}/account").get_data(True)
