"""Storefront sign-up under a race: simultaneous sign-ups with one email make one customer
and clear messages (never a 500); a duplicate 200-character name fits its column."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.test_shop import _tenant
from webapp.extensions import db
from webapp.models import Account, StoreCustomer

PASSWORD = "buyer-password-1"


def _form(client, store: str, name: str, email: str) -> dict:
    token = csrf_from(client.get(f"{store}/signup").get_data(as_text=True))
    return {
        "csrf_token": token,
        "name": name,
        "email": email,
        "password": PASSWORD,
        "password_again": PASSWORD,
    }


def test_simultaneous_sign_ups_with_one_email_make_one_customer(app, demo, auth, client, run_jobs):
    org_id, slug, _product = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shoppers = [app.test_client() for _ in range(8)]
    forms = [_form(c, store, f"Buyer {i}", "Same@Example.com") for i, c in enumerate(shoppers)]
    barrier = threading.Barrier(len(shoppers))
    results: list = [None] * len(shoppers)

    def submit(i: int) -> None:
        barrier.wait()
        response = shoppers[i].post(f"{store}/signup", data=forms[i])
        results[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(shoppers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = sorted(code for code, _ in results)
    assert codes.count(302) == 1, codes
    for code, html in results:
        assert code in (302, 400), code
        if code == 400:
            assert "already exists" in html
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(StoreCustomer)
            .where(StoreCustomer.organization_id == org_id)
        )
        assert count == 1


def test_a_duplicate_long_name_fits_the_column(app, demo, auth, client, run_jobs):
    """Two customers with the same 200-character name: the second is "… (2)", still 200."""
    org_id, slug, _product = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    name = "N" * 200
    for i in range(2):
        shopper = app.test_client()
        response = shopper.post(f"{store}/signup", data=_form(shopper, store, name, f"b{i}@x.io"))
        assert response.status_code == 302
    with app.app_context():
        names = db.session.scalars(
            select(Account.name).where(Account.organization_id == org_id, Account.name.like("NNN%"))
        ).all()
    assert sorted(names) == sorted([name, "N" * 196 + " (2)"])
