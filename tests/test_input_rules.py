"""Input rules: names refuse control and bidi characters, currencies must be money (not XXX,
XTS or XAU), numbers in forms are ASCII digits ('²' is a 400, not a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.test_shop import _tenant
from webapp.extensions import db
from webapp.models import Account


def _new_account(client, **values):
    token = csrf_from(client.get("/accounts/new").get_data(as_text=True))
    data = {"csrf_token": token, "name": "Adatum", "billing_currency": "EUR", **values}
    return client.post("/accounts/new", data=data)


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Account))


@pytest.mark.parametrize(
    "name", ["Evil\u202eCorp", "Bell\x07", "Zero\u200bWidth", "Iso\u2066late", "Esc\x1b[31m"]
)
def test_names_with_control_or_bidi_characters_are_refused(app, demo, auth, client, name):
    auth.login()
    before = _count(app)
    response = _new_account(client, name=name)
    assert response.status_code == 400
    assert "invisible or control characters" in response.get_data(as_text=True)
    assert _count(app) == before


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XDR"])
def test_non_monetary_currencies_are_refused(app, demo, auth, client, code):
    auth.login()
    before = _count(app)
    response = _new_account(client, billing_currency=code)
    assert response.status_code == 400
    assert "ISO 4217" in response.get_data(as_text=True)
    assert _count(app) == before
    assert f'value="{code}"' not in client.get("/accounts/new").get_data(as_text=True)


def test_real_x_currencies_are_accepted(app, demo, auth, client):
    auth.login()
    assert _new_account(client, billing_currency="XOF").status_code == 303


def test_a_superscript_quantity_is_a_400(app, demo, auth, client, run_jobs):
    _org, slug, product_id = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shopper = app.test_client()
    token = csrf_from(shopper.get(f"{store}/cart").get_data(as_text=True))
    for quantity in ("²", "٣", "9" * 5000):
        response = shopper.post(
            f"{store}/cart/add/{product_id}", data={"csrf_token": token, "quantity": quantity}
        )
        assert response.status_code == 400, quantity


def test_metrics_need_the_token_and_are_not_public_in_production(app, client):
    """/metrics: 404 in production without METRICS_TOKEN; with it, 401 without the right
    bearer token (a non-ASCII one included: was a 500), 200 with it."""
    app.config.update(APP_ENV="production", METRICS_TOKEN=None)
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    for header in ("Bearer wrong", "Bearer ünïcode", "Bearer \u202e"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "trbss_" in ok.get_data(as_text=True)
    connection = app.extensions.get("redis_connection")
    if connection is not None:  # opened by the metrics' queue depth; closed, not collected
        connection.close()


def test_storefront_sign_up_refuses_a_common_password(app, demo, auth, client, run_jobs):
    org_id, slug, _product = _tenant(app, demo, auth, client, run_jobs)
    store = f"/store/{slug}"
    shopper = app.test_client()
    token = csrf_from(shopper.get(f"{store}/signup").get_data(as_text=True))
    for password in ("password1234", "buyer@example.com"):
        response = shopper.post(
            f"{store}/signup",
            data={
                "csrf_token": token,
                "name": "Buyer",
                "email": "buyer@example.com",
                "password": password,
                "password_again": password,
            },
        )
        assert response.status_code == 400, password
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(Account).where(Account.organization_id == org_id)
        ) == db.session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.organization_id == org_id, Account.name != "Buyer")
        )


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, '{"a":' * 50_000, "[" * 900 + "]" * 900, "{bad", "\xff\xfe"],
)
def test_malformed_or_deep_json_is_a_4xx(app, client, body):
    """Any depth, any garbage: the API answers 4xx (here 400 or 401), never a 500."""
    response = client.post("/api/v1/tenant-resellers", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
