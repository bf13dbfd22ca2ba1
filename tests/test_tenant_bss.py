"""The tenant's own BSS: dashboard next steps, products, price lists, currency, users."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.helpers import GOOD_PASSWORD, account_id, price_list_id, submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Organization,
    PriceList,
    PriceListItem,
    Process,
    Product,
    Storefront,
    TenantReseller,
    User,
    utcnow,
)
from webapp.services import pricing
from webapp.services.passwords import hash_password

# --- helpers shared with tests/test_customers.py ----------------------------------------------


def create_tenant(app, client, auth, run_jobs, account="Northwind Cloud", **overrides) -> dict:
    """Create a tenant through the real form and worker, sign the distributor out."""
    auth.login()
    response = submit_creation(client, app, account, **overrides)
    assert response.status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(
            select(TenantReseller).where(TenantReseller.account_id == account_id(app, account))
        )
        org = db.session.get(Organization, tenant.tenant_organization_id)
        assert org.status == "Active"
        info = {"org_id": org.id, "client_id": org.client_id}
    client.post("/logout", data={"csrf_token": auth.token()})
    return info


def sign_in_tenant(auth, info, username="nwadmin", password=GOOD_PASSWORD):
    response = auth.login(client_id=info["client_id"], username=username, password=password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def make_other_tenant(app, demo_id: int) -> dict:
    """A second tenant of the distributor with one product, price list and customer."""
    with app.app_context():
        org = Organization(
            name="Other Tenant", client_id="OTHERTEN01", parent_id=demo_id, edition="Premium"
        )
        db.session.add(org)
        db.session.flush()
        db.session.add(
            User(
                organization_id=org.id,
                username="otheradmin",
                password_hash=hash_password(GOOD_PASSWORD),
                role="admin",
            )
        )
        platform_id = db.session.scalar(select(Product.platform_id).limit(1))
        product = Product(
            organization_id=org.id,
            platform_id=platform_id,
            sku="OT-1",
            name="Other product",
            cost_price=Decimal("5.00"),
            cost_currency="EUR",
        )
        price_list = PriceList(organization_id=org.id, name="Other EUR", currency="EUR")
        customer = Account(organization_id=org.id, name="Other customer")
        db.session.add_all([product, price_list, customer])
        db.session.flush()
        db.session.add(
            PriceListItem(
                organization_id=org.id,
                price_list_id=price_list.id,
                product_id=product.id,
                retail_price=Decimal("5.00"),
            )
        )
        db.session.commit()
        return {
            "org_id": org.id,
            "product_id": product.id,
            "price_list_id": price_list.id,
            "account_id": customer.id,
        }


def money(amount: Decimal, currency: str) -> str:
    """As the page shows it: Northwind's tenant is created with language "de"."""
    return format_currency(amount, currency, locale="de")


def token_of(client, path="/") -> str:
    return csrf_from(client.get(path, follow_redirects=True).get_data(as_text=True))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def tenant(app, demo, auth, client, run_jobs):
    """Northwind Cloud made a Premium tenant; its administrator is signed in."""
    info = create_tenant(app, client, auth, run_jobs)
    sign_in_tenant(auth, info)
    return info


def _product(app, org_id: int, name="Microsoft 365 Business Basic") -> dict:
    with app.app_context():
        product = db.session.scalar(
            select(Product).where(Product.organization_id == org_id, Product.name == name)
        )
        return {
            column: getattr(product, column)
            for column in (
                "id",
                "name",
                "sku",
                "cost_price",
                "cost_currency",
                "platform_id",
                "billing_period",
                "source_product_id",
                "organization_id",
                "description",
                "category",
                "image_path",
                "marketing_html",
            )
        }


def _default_list(app, org_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(PriceList.id).where(
                PriceList.organization_id == org_id, PriceList.name == "Default EUR"
            )
        )


def _prices(app, list_id: int) -> dict[int, Decimal]:
    with app.app_context():
        return dict(
            db.session.execute(
                select(PriceListItem.product_id, PriceListItem.retail_price).where(
                    PriceListItem.price_list_id == list_id
                )
            ).all()
        )


def _costs(app, org_id: int) -> dict[int, Decimal]:
    with app.app_context():
        return dict(
            db.session.execute(
                select(Product.id, Product.cost_price).where(Product.organization_id == org_id)
            ).all()
        )


def _png(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# --- dashboard --------------------------------------------------------------------------------


def test_dashboard_shows_the_organization_and_next_steps_tick_when_done(app, tenant, client):
    """The dashboard shows organization, edition, status and Client ID; each next step
    ticks itself once the storefront is branded, a price differs from cost and a customer
    exists."""
    page = client.get("/").get_data(as_text=True)
    cid = tenant["client_id"]
    assert "Northwind Cloud" in page and "Premium" in page and "Active" in page
    assert f"{cid[:5]}-{cid[5:]}" in page
    assert "0 of 3 done" in page
    for title in (
        "Brand your storefront",
        "Set your currency and prices",
        "Add your first customer",
    ):
        assert re.search(rf"To do:</span>\s*<strong>{title}</strong>", page), title
    assert 'href="/accounts/new"' in page and 'href="/price-lists"' in page

    with app.app_context():
        storefront = db.session.scalar(Storefront.in_org(tenant["org_id"]))
        storefront.branded_at = utcnow()
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Done:</span>\s*<strong>Brand your storefront</strong>", page)
    assert "1 of 3 done" in page

    list_id = _default_list(app, tenant["org_id"])
    product = _product(app, tenant["org_id"])
    client.post(
        f"/price-lists/{list_id}/prices",
        data={"csrf_token": token_of(client), "product_id": product["id"], "price": "99.00"},
    )
    client.post(
        "/accounts/new",
        data={"csrf_token": token_of(client), "name": "First Customer", "billing_currency": "EUR"},
    )
    page = client.get("/").get_data(as_text=True)
    assert "3 of 3 done" in page
    # "Your next steps" only: the playbook below it has items of its own
    next_steps = page[page.index('id="next-h"') :].split("</section>", 1)[0]
    assert "To do:" not in next_steps


def test_prices_count_as_set_by_a_list_in_another_currency(app, tenant, client):
    """A price list in a currency other than the cost currency ticks "Set your currency and
    prices" even before it has prices."""
    with app.app_context():
        assert pricing.prices_are_set(tenant["org_id"]) is False
    client.post(
        "/price-lists/new",
        data={"csrf_token": token_of(client), "name": "Retail USD", "currency": "USD"},
    )
    with app.app_context():
        assert pricing.prices_are_set(tenant["org_id"]) is True
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Done:</span>\s*<strong>Set your currency and prices</strong>", page)


# --- products ---------------------------------------------------------------------------------


def test_products_search_and_no_product_creation(app, tenant, client):
    """The tenant's catalogue is searchable, links to each product's edit page, and says
    that products cannot be created here (there is no such page)."""
    page = client.get("/products?q=acronis").get_data(as_text=True)
    assert "Acronis" in page and "Microsoft 365 Business Basic" not in page
    assert "New products cannot be added here" in page
    product = _product(app, tenant["org_id"])
    assert f"/products/{product['id']}/edit" in client.get("/products").get_data(as_text=True)
    assert client.get("/products/new").status_code in (404, 405)
    assert client.post("/products", data={"csrf_token": token_of(client)}).status_code == 405


def test_edit_page_shows_locked_fields_read_only(app, tenant, client):
    """Cost price, cost currency, platform, SKU and billing period are shown, marked
    "managed by distributor", and are not inputs."""
    product = _product(app, tenant["org_id"])
    page = client.get(f"/products/{product['id']}/edit").get_data(as_text=True)
    assert page.count("managed by distributor") >= 5
    assert product["sku"] in page and "Microsoft 365 &amp; Azure" in page
    for locked in ("sku", "cost_price", "cost_currency", "platform_id", "billing_period"):
        assert f'name="{locked}"' not in page
    for editable in ("name", "description", "category", "image", "marketing_html"):
        assert re.search(rf'<label for="{editable}"', page), editable


def test_tenant_changes_name_description_category_and_marketing_text(app, tenant, client):
    """The tenant's fields are saved, the marketing text through the sanitizer, and one audit
    row records exactly the changed fields before and after."""
    product = _product(app, tenant["org_id"])
    url = f"/products/{product['id']}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": "Business Basic for Teams",
            "description": "Mail and chat.",
            "category": "Collaboration",
            "marketing_html": '<p onclick="x()">Great <script>alert(1)</script><b>value</b></p>',
        },
    )
    assert response.status_code == 303
    after = _product(app, tenant["org_id"], "Business Basic for Teams")
    assert after["description"] == "Mail and chat."
    assert after["category"] == "Collaboration"
    assert after["marketing_html"] == "<p>Great <b>value</b></p>"
    with app.app_context():
        log = db.session.scalar(
            select(AuditLog).where(
                AuditLog.entity_type == "product", AuditLog.entity_id == product["id"]
            )
        )
        assert log.action == "product.update" and log.actor_label == "nwadmin"
        assert log.before["name"] == "Microsoft 365 Business Basic"
        assert log.after["name"] == "Business Basic for Teams"
        assert set(log.after) == {"name", "description", "category", "marketing_html"}


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("name", "Teams Essentials Bundle", "Teams Essentials Bundle"),
        ("description", "Chat, calls and mail.", "Chat, calls and mail."),
        ("category", "Collaboration", "Collaboration"),
        ("marketing_html", "<p>Try it <em>today</em></p>", "<p>Try it <em>today</em></p>"),
    ],
)
def test_a_tenant_may_change_each_of_its_fields_alone(app, tenant, client, field, value, stored):
    """Each tenant-owned field can be changed on its own; the audit row names only it."""
    product = _product(app, tenant["org_id"])
    url = f"/products/{product['id']}/edit"
    data = {name: product[name] for name in ("name", "description", "category")}
    data["marketing_html"] = product["marketing_html"]
    data[field] = value
    response = client.post(url, data={"csrf_token": token_of(client, url), **data})
    assert response.status_code == 303
    with app.app_context():
        after = db.session.get(Product, product["id"])
        assert getattr(after, field) == stored
        for other in ("name", "description", "category", "marketing_html", "image_path"):
            if other != field:
                assert getattr(after, other) == product[other], other
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.update"))
        assert log.before == {field: product[field]} and log.after == {field: stored}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", "HACKED-1"),
        ("cost_price", "0.01"),
        ("cost_currency", "USD"),
        ("platform_id", "999"),
        ("billing_period", "Never"),
        ("source_product_id", ""),
        ("organization_id", "1"),
    ],
)
def test_a_post_cannot_change_a_locked_field(app, tenant, client, field, value):
    """A crafted POST with a distributor-managed field changes nothing of it, while the
    tenant's own field in the same POST is saved."""
    product = _product(app, tenant["org_id"])
    url = f"/products/{product['id']}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": "Renamed by tenant",
            "description": product["description"],
            "category": product["category"],
            field: value,
        },
    )
    assert response.status_code == 303
    after = _product(app, tenant["org_id"], "Renamed by tenant")
    assert after[field] == product[field]
    assert after["id"] == product["id"]


def test_image_upload_is_stored_and_bad_files_are_refused_next_to_the_field(
    app, tenant, client, tmp_path
):
    """A PNG is re-encoded and linked to the product; a non-image is refused with the
    message next to the image field and nothing else saved."""
    app.config["UPLOADS_DIR"] = str(tmp_path)
    product = _product(app, tenant["org_id"])
    url = f"/products/{product['id']}/edit"
    bad = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": "Not saved",
            "image": (io.BytesIO(b"<svg onload=alert(1)></svg>"), "x.svg"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'aria-describedby="image-hint image-error"' in page
    assert re.search(r'<p class="error" id="image-error">SVG images are not accepted', page)
    assert _product(app, tenant["org_id"])["name"] == product["name"]

    too_big = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": product["name"],
            "image": (io.BytesIO(b"\x89PNG" + b"0" * (1024 * 1024 + 10)), "big.png"),
        },
        content_type="multipart/form-data",
    )
    assert too_big.status_code == 400
    assert "larger than 1 MB" in too_big.get_data(as_text=True)
    # The test client spools a body this large to a temporary file that it does not close.
    too_big.request.environ["wsgi.input"].close()

    good = client.post(
        url,
        data={
            "csrf_token": token_of(client, url),
            "name": product["name"],
            "image": (io.BytesIO(_png()), "photo.png"),
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    image_path = _product(app, tenant["org_id"])["image_path"]
    assert re.fullmatch(r"[0-9a-f]{32}\.png", image_path)
    assert (tmp_path / image_path).is_file()
    assert image_path in client.get(url).get_data(as_text=True)


def test_distributor_edits_its_products_on_its_own_form(app, demo, auth, client):
    """The distributor's products open the distributor's form (SKU, platform, billing period
    are inputs there), not the tenant's marketing page."""
    auth.login()
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).limit(1))
    page = client.get(f"/products/{product_id}/edit").get_data(as_text=True)
    assert 'name="sku"' in page and 'name="platform_id"' in page and "Marketing text" not in page


# --- price lists ------------------------------------------------------------------------------


def test_price_list_page_shows_cost_sell_and_margin(app, tenant, client):
    """The tenant's default list shows each product's cost, sell price (an input) and margin;
    at cost the margin is zero."""
    list_id = _default_list(app, tenant["org_id"])
    product = _product(app, tenant["org_id"])
    page = client.get(f"/price-lists/{list_id}").get_data(as_text=True)
    for heading in ("Cost", "Sell price (EUR)", "Margin", "Margin %"):
        assert f">{heading}</th>" in page, heading
    row = re.search(rf'<tr id="price-{product["id"]}">.*?</tr>', page, re.S).group(0)
    cost = pricing.plain(product["cost_price"])
    assert f'value="{cost}"' in row
    assert money(Decimal(0), "EUR") in row and "0,0\u00a0%" in row
    assert f'<label class="visually-hidden" for="sell-{product["id"]}">' in row


def test_inline_price_edit_returns_the_row_for_htmx_and_redirects_without_js(app, tenant, client):
    """htmx gets only the updated row with the new margin; a plain POST is redirected;
    each change is audit-logged."""
    list_id = _default_list(app, tenant["org_id"])
    product = _product(app, tenant["org_id"])
    token = token_of(client)
    cost = product["cost_price"]
    new_price = cost + Decimal("5")
    response = client.post(
        f"/price-lists/{list_id}/prices",
        data={"csrf_token": token, "product_id": product["id"], "price": str(new_price)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="price-{product["id"]}">')
    assert "<html" not in fragment and "Saved." in fragment
    amount, percent = pricing.margin(cost, new_price)
    assert money(amount, "EUR") in fragment and pricing.percent_text(percent, "de") in fragment
    assert _prices(app, list_id)[product["id"]] == new_price

    second_price = cost + Decimal("2.25")
    comma_price = str(second_price).replace(".", ",")  # a decimal comma is understood too
    plain = client.post(
        f"/price-lists/{list_id}/prices",
        data={"csrf_token": token, "product_id": product["id"], "price": comma_price},
    )
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/price-lists/{list_id}#price-{product['id']}")
    assert _prices(app, list_id)[product["id"]] == second_price
    with app.app_context():
        logs = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "price_list.price").order_by(AuditLog.id)
        ).all()
        # stored at the currency's precision: EUR has cents
        assert [log.after["retail_price"] for log in logs] == [
            pricing.plain(new_price),
            pricing.plain(second_price),
        ]
        assert logs[0].before["retail_price"] == str(cost)


@pytest.mark.parametrize(
    ("typed", "message"), [("-3", "cannot be negative"), ("twelve", "as a number")]
)
def test_negative_or_non_numeric_price_is_refused_next_to_the_field(
    app, tenant, client, typed, message
):
    """A bad price is refused with a message linked to its input, for htmx and without
    JavaScript, and the stored price is unchanged."""
    list_id = _default_list(app, tenant["org_id"])
    product = _product(app, tenant["org_id"])
    before = _prices(app, list_id)
    token = token_of(client)
    data = {"csrf_token": token, "product_id": product["id"], "price": typed}
    htmx = client.post(f"/price-lists/{list_id}/prices", data=data, headers={"HX-Request": "1"})
    plain = client.post(f"/price-lists/{list_id}/prices", data=data)
    assert htmx.status_code == 200 and plain.status_code == 400
    for response in (htmx, plain):
        html = response.get_data(as_text=True)
        pid = product["id"]
        assert f'aria-describedby="sell-{pid}-error"' in html
        assert re.search(rf'<p class="error" id="sell-{pid}-error"[^>]*>[^<]*{message}', html)
        assert f'value="{typed}"' in html
    assert _prices(app, list_id) == before


def test_sell_prices_round_to_the_currency_and_below_cost_needs_a_confirmation(app, tenant, client):
    """7.499 is stored as 7.50 and the row says so; a price below cost (1.00 on a cost of
    more) is refused with the margin until "Sell below cost" is ticked; nothing is saved
    before that."""
    list_id = _default_list(app, tenant["org_id"])
    product = _product(app, tenant["org_id"])
    pid, cost = product["id"], product["cost_price"]
    token = token_of(client)
    above = (cost + Decimal("2.499")).quantize(Decimal("0.001"))
    rounded = client.post(
        f"/price-lists/{list_id}/prices",
        data={"csrf_token": token, "product_id": pid, "price": str(above)},
        headers={"HX-Request": "1"},
    )
    expected = above.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert f"Saved as {expected}" in rounded.get_data(as_text=True)
    assert _prices(app, list_id)[pid] == expected

    below = {"csrf_token": token, "product_id": pid, "price": "0.01"}
    for headers, status in (({"HX-Request": "1"}, 200), ({}, 400)):
        refused = client.post(f"/price-lists/{list_id}/prices", data=below, headers=headers)
        assert refused.status_code == status
        html = refused.get_data(as_text=True)
        assert re.search(
            rf'id="sell-{pid}-error"[^>]*>0.01 is below your cost of {pricing.plain(cost)}', html
        )
        assert 'name="below_cost" value="yes"' in html
        assert _prices(app, list_id)[pid] == expected
    confirmed = client.post(
        f"/price-lists/{list_id}/prices",
        data={**below, "below_cost": "yes"},
        headers={"HX-Request": "1"},
    )
    assert "Saved." in confirmed.get_data(as_text=True)
    assert _prices(app, list_id)[pid] == Decimal("0.01")


def test_create_price_list_validates_currency_and_name(app, tenant, client):
    """A new list needs a name unique in the organization and an ISO 4217 currency."""
    token = token_of(client, "/price-lists/new")
    bad = client.post("/price-lists/new", data={"csrf_token": token, "name": "", "currency": "XYZ"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'id="name-error">Enter a name for the price list.' in html
    assert 'id="currency-error">Choose a currency by its ISO 4217 code' in html
    duplicate = client.post(
        "/price-lists/new",
        data={"csrf_token": token, "name": "Default EUR", "currency": "EUR", "active": "y"},
    )
    assert duplicate.status_code == 400
    assert "You already have a price list named Default EUR." in duplicate.get_data(as_text=True)
    created = client.post(
        "/price-lists/new",
        data={"csrf_token": token, "name": "Retail CHF", "currency": "CHF", "active": "y"},
    )
    assert created.status_code == 303
    with app.app_context():
        price_list = db.session.scalar(select(PriceList).where(PriceList.name == "Retail CHF"))
        assert price_list.organization_id == tenant["org_id"]
        assert (price_list.currency, price_list.active) == ("CHF", True)
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "price_list.create"))


@pytest.mark.parametrize("rule", list(pricing.ROUNDING_RULES))
def test_markup_sets_every_price_by_the_rounding_rule(app, tenant, client, run_jobs, rule):
    """A markup in the cost currency is a queued process (never the web request) that sets
    each of the 64 prices to the rounded cost plus markup, in Decimal, audited; the form then
    remembers the percentage and the rounding."""
    list_id = _default_list(app, tenant["org_id"])
    before = _prices(app, list_id)
    response = client.post(
        f"/price-lists/{list_id}/markup",
        data={"csrf_token": token_of(client), "markup_percent": "17.5", "rounding": rule},
    )
    assert response.status_code == 303
    assert "/processes/" in response.headers["Location"]
    assert _prices(app, list_id) == before  # queued: the request itself changed no price
    run_jobs()
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "price_markup"))
        assert process.status == "Completed"
        assert process.tasks[0].items_done == 64
    prices, costs = _prices(app, list_id), _costs(app, tenant["org_id"])
    assert len(prices) == len(costs) == 64
    for product_id, cost in costs.items():
        expected = pricing.apply_rounding(cost * Decimal("1.175"), rule)
        assert prices[product_id] == expected
        assert isinstance(prices[product_id], Decimal)
    with app.app_context():
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "price_list.markup"))
        assert log.after["markup_percent"] == "17.5" and log.after["rounding"] == rule
        assert log.after["updated"] == 64 and log.after["exchange_rate"] is None
    page = client.get(f"/price-lists/{list_id}").get_data(as_text=True)
    assert re.search(r'id="markup_percent"[^>]*value="17.5"', page)
    assert re.search(rf'value="{rule}"[^>]*checked|checked[^>]*value="{rule}"', page)


def test_markup_in_another_currency_needs_a_typed_exchange_rate(app, tenant, client, run_jobs):
    """For a USD list over EUR costs the markup is refused without a rate, with a clear
    message; with the typed rate every product gets cost × rate × (1 + markup), and the page
    shows costs and margins in USD."""
    token = token_of(client)
    client.post(
        "/price-lists/new", data={"csrf_token": token, "name": "Retail USD", "currency": "USD"}
    )
    with app.app_context():
        list_id = db.session.scalar(select(PriceList.id).where(PriceList.name == "Retail USD"))
    page = client.get(f"/price-lists/{list_id}").get_data(as_text=True)
    assert "Exchange rate: 1 EUR in USD" in page and "not priced" in page

    refused = client.post(
        f"/price-lists/{list_id}/markup",
        data={"csrf_token": token, "markup_percent": "20", "rounding": "cent"},
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert re.search(
        r'id="exchange_rate-error">Your costs are in EUR and this price list is in USD', html
    )
    assert "never guesses a rate" in html
    assert _prices(app, list_id) == {}

    applied = client.post(
        f"/price-lists/{list_id}/markup",
        data={
            "csrf_token": token,
            "markup_percent": "20",
            "rounding": "cent",
            "exchange_rate": "1.10",
        },
    )
    assert applied.status_code == 303
    run_jobs()
    prices, costs = _prices(app, list_id), _costs(app, tenant["org_id"])
    assert len(prices) == 64
    for product_id, cost in costs.items():
        assert prices[product_id] == (cost * Decimal("1.10") * Decimal("1.20")).quantize(
            Decimal("0.01"), rounding="ROUND_HALF_UP"
        )
    product = _product(app, tenant["org_id"])
    page = client.get(f"/price-lists/{list_id}").get_data(as_text=True)
    row = re.search(rf'<tr id="price-{product["id"]}">.*?</tr>', page, re.S).group(0)
    cost_usd = (product["cost_price"] * Decimal("1.10")).quantize(Decimal("0.01"))
    amount, percent = pricing.margin(product["cost_price"], prices[product["id"]], Decimal("1.10"))
    assert money(cost_usd, "USD") in row and money(amount, "USD") in row
    assert pricing.percent_text(percent, "de") in row


@pytest.mark.parametrize(
    ("markup", "message"), [("-10", "cannot be negative"), ("lots", "as a number"), ("", "Enter")]
)
def test_markup_refuses_bad_percentages(app, tenant, client, markup, message):
    """A negative, non-numeric or missing markup is refused next to its field, nothing set."""
    list_id = _default_list(app, tenant["org_id"])
    before = _prices(app, list_id)
    response = client.post(
        f"/price-lists/{list_id}/markup",
        data={"csrf_token": token_of(client), "markup_percent": markup, "rounding": "cent"},
    )
    assert response.status_code == 400
    assert re.search(rf'id="markup_percent-error">[^<]*{message}', response.get_data(as_text=True))
    assert _prices(app, list_id) == before


def test_currency_setting_changes_the_organization_currency(app, tenant, client):
    """The tenant chooses its currency (ISO 4217); the page says cost prices stay in the
    distributor's currency. A currency without a priced list is not switched silently: the
    page warns that the storefront would be empty and offers to create the list; switching
    anyway is explicit, audited, and the dashboard no longer ticks the prices step."""
    page = client.get("/settings/currency").get_data(as_text=True)
    assert "Your cost prices stay in EUR" in page
    token = csrf_from(page)
    bad = client.post("/settings/currency", data={"csrf_token": token, "currency": "EURO"})
    assert bad.status_code == 400 and 'id="currency-error"' in bad.get_data(as_text=True)
    warned = client.post("/settings/currency", data={"csrf_token": token, "currency": "GBP"})
    assert warned.status_code == 200
    html = warned.get_data(as_text=True)
    assert "No prices in GBP yet" in html and "would show no products" in html
    assert 'value="Retail GBP"' in html and "Exchange rate: 1 EUR in GBP" in html
    with app.app_context():
        assert db.session.get(Organization, tenant["org_id"]).currency == "EUR"
        assert (
            db.session.scalar(select(AuditLog.id).where(AuditLog.action == "organization.currency"))
            is None
        )

    anyway = client.post(
        "/settings/currency",
        data={"csrf_token": token, "currency": "GBP", "switch_anyway": "yes"},
    )
    assert anyway.status_code == 303
    with app.app_context():
        org = db.session.get(Organization, tenant["org_id"])
        assert org.currency == "GBP"
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "organization.currency"))
        assert (log.before, log.after) == ({"currency": "EUR"}, {"currency": "GBP"})
        assert all(p.cost_currency == "EUR" for p in db.session.scalars(Product.in_org(org.id)))
    page = client.get("/settings/currency").get_data(as_text=True)
    assert "no active price list with prices in GBP" in page
    home = client.get("/").get_data(as_text=True)
    assert not re.search(r"Done:</span>\s*<strong>Set your currency and prices</strong>", home)


def test_currency_change_with_a_new_price_list_is_one_process(app, tenant, client, run_jobs):
    """Switching to GBP with 'create the list': a queued process creates Retail GBP, prices
    every product from cost × typed rate × (1 + markup), then switches the currency; the
    storefront sells in GBP and the dashboard ticks the prices step."""
    token = token_of(client)
    refused = client.post(
        "/settings/currency/with-price-list",
        data={
            "csrf_token": token,
            "currency": "GBP",
            "price_list_name": "Retail GBP",
            "markup_percent": "10",
            "rounding": "cent",
            "exchange_rate": "",
        },
    )
    assert refused.status_code == 400
    assert 'id="exchange_rate-error"' in refused.get_data(as_text=True)
    queued = client.post(
        "/settings/currency/with-price-list",
        data={
            "csrf_token": token,
            "currency": "GBP",
            "price_list_name": "Retail GBP",
            "markup_percent": "10",
            "rounding": "cent",
            "exchange_rate": "0.85",
        },
    )
    assert queued.status_code == 303 and "/processes/" in queued.headers["Location"]
    with app.app_context():
        assert db.session.get(Organization, tenant["org_id"]).currency == "EUR"
    run_jobs()
    with app.app_context():
        org = db.session.get(Organization, tenant["org_id"])
        assert org.currency == "GBP"
        gbp = db.session.scalar(select(PriceList).where(PriceList.name == "Retail GBP"))
        assert (gbp.organization_id, gbp.currency) == (org.id, "GBP")
        process = db.session.scalar(select(Process).where(Process.kind == "currency_change"))
        assert process.status == "Completed"
    prices, costs = _prices(app, gbp.id), _costs(app, tenant["org_id"])
    assert len(prices) == len(costs) == 64
    for product_id, cost in costs.items():
        assert prices[product_id] == (cost * Decimal("0.85") * Decimal("1.10")).quantize(
            Decimal("0.01"), rounding="ROUND_HALF_UP"
        )
    home = client.get("/").get_data(as_text=True)
    assert re.search(r"Done:</span>\s*<strong>Set your currency and prices</strong>", home)


def test_tenant_price_tools_stay_404_for_the_distributor(app, demo, auth, client):
    """The distributor's price lists have no markup tool; the tenant-only actions (markup,
    sell prices, currency) are 404 for the distributor, whose own tools are elsewhere."""
    auth.login()
    partner = price_list_id(app, "Partner EUR")
    page = client.get(f"/price-lists/{partner}").get_data(as_text=True)
    assert "Retail price" in page and "markup" not in page.lower()
    token = token_of(client, "/price-lists")
    before = _prices(app, partner)
    for path, data in [
        (f"/price-lists/{partner}/markup", {"markup_percent": "10", "rounding": "cent"}),
        (f"/price-lists/{partner}/prices", {"product_id": "1", "price": "1"}),
        ("/settings/currency", {"currency": "USD"}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    assert _prices(app, partner) == before


def test_another_tenants_ids_are_404(app, demo, tenant, client):
    """Signed in as one tenant, another tenant's product, price list and customer ids
    answer 404 on every page and action, and nothing of theirs changes."""
    other = make_other_tenant(app, demo)
    token = token_of(client)
    own_list = _default_list(app, tenant["org_id"])
    for url in (
        f"/products/{other['product_id']}/edit",
        f"/price-lists/{other['price_list_id']}",
        f"/accounts/{other['account_id']}",
        f"/accounts/{other['account_id']}/edit",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in [
        (f"/products/{other['product_id']}/edit", {"name": "Stolen"}),
        (f"/price-lists/{other['price_list_id']}/prices", {"product_id": "1", "price": "1"}),
        (f"/price-lists/{other['price_list_id']}/markup", {"markup_percent": "1"}),
        # Their product through my own price list.
        (f"/price-lists/{own_list}/prices", {"product_id": other["product_id"], "price": "1"}),
        (f"/accounts/{other['account_id']}/edit", {"name": "Stolen", "billing_currency": "EUR"}),
    ]:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    with app.app_context():
        assert db.session.get(Product, other["product_id"]).name == "Other product"
        assert db.session.get(Account, other["account_id"]).name == "Other customer"
        assert _prices(app, other["price_list_id"]) == {other["product_id"]: Decimal("5.0000")}
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(PriceListItem)
                .where(PriceListItem.product_id == other["product_id"])
            )
            == 1
        )


# --- users ------------------------------------------------------------------------------------


def test_premium_tenant_adds_users_with_unique_names_and_long_passwords(app, tenant, client):
    """A Premium tenant adds a staff user (argon2id hash, audit-logged); a taken username
    and a short password are refused next to their fields; the new user can sign in."""
    page = client.get("/users").get_data(as_text=True)
    assert "nwadmin" in page and "Add a user" in page
    token = csrf_from(page)
    short = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "sales",
            "email": "sales@northwind.example",
            "password": "too-short",
        },
    )
    assert short.status_code == 400
    assert 'id="password-error">Use at least 12 characters.' in short.get_data(as_text=True)
    taken = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "NWadmin",
            "email": "x@northwind.example",
            "password": GOOD_PASSWORD,
        },
    )
    assert taken.status_code == 400
    assert "There already is a user named NWadmin" in taken.get_data(as_text=True)
    added = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "sales",
            "email": "sales@northwind.example",
            "password": "a-long-enough-pass",
        },
    )
    assert added.status_code == 303
    with app.app_context():
        user = db.session.scalar(
            select(User).where(User.organization_id == tenant["org_id"], User.username == "sales")
        )
        assert user.role == "staff" and user.password_hash.startswith("$argon2id$")
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "user.create"))
    client.post("/logout", data={"csrf_token": token_of(client)})
    auth_client = client
    page = auth_client.get("/login").get_data(as_text=True)
    response = auth_client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page),
            "client_id": tenant["client_id"],
            "username": "sales",
            "password": "a-long-enough-pass",
        },
    )
    assert response.status_code == 302


def test_basic_tenant_has_one_administrator_and_cannot_add_users(app, tenant, client):
    """A Basic tenant sees its administrator and the sentence about editions, no form; a POST
    is refused with 403 and the message, and no user is created."""
    with app.app_context():
        db.session.get(Organization, tenant["org_id"]).edition = "Basic"
        db.session.commit()
    page = client.get("/users").get_data(as_text=True)
    assert "nwadmin" in page
    assert "Basic edition includes one administrator. Premium allows more users" in page
    assert 'name="password"' not in page
    response = client.post(
        "/users",
        data={
            "csrf_token": token_of(client),
            "username": "sales",
            "email": "sales@northwind.example",
            "password": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 403
    assert "Premium allows more users" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.organization_id == tenant["org_id"])
            )
            == 1
        )


def test_distributor_adds_staff_users(app, demo, auth, client):
    """The distributor's administrator may add staff users to the distributor."""
    auth.login()
    response = client.post(
        "/users",
        data={
            "csrf_token": token_of(client, "/users"),
            "username": "helpdesk",
            "email": "helpdesk@demo.example",
            "password": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(
            select(User.id).where(User.organization_id == demo, User.username == "helpdesk")
        )
