"""The distributor's catalogue: products (create, edit, retire) and price lists (create in any
monetary ISO 4217 currency, copy with a rate and rounding, items, activation, CSV export and
a dry-run CSV import), each change audited; and the readiness fix link that leads here."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.helpers import account_id, price_list_id
from webapp.extensions import db
from webapp.models import AuditLog, PriceList, PriceListItem, Product, ProvisioningPlatform

D = Decimal


@pytest.fixture
def staff(demo, auth, client):
    """The demo distributor's admin, signed in."""
    auth.login()
    return demo


def _token(client, path="/products/new") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _platform(app, code="microsoft") -> int:
    with app.app_context():
        return db.session.scalar(
            select(ProvisioningPlatform.id).where(ProvisioningPlatform.code == code)
        )


def _product(app, sku) -> Product | None:
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is not None:
            db.session.expunge(product)
        return product


def _audits(app, action) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _prices(app, list_id) -> dict[str, Decimal]:
    with app.app_context():
        return dict(
            db.session.execute(
                select(Product.sku, PriceListItem.retail_price)
                .join(Product, Product.id == PriceListItem.product_id)
                .where(PriceListItem.price_list_id == list_id)
            ).all()
        )


def _product_form(app, **overrides) -> dict:
    data = {
        "sku": "NEW-001",
        "name": "Teams Phone",
        "category": "Productivity",
        "platform_id": str(_platform(app)),
        "billing_period": "Annual",
        "description": "Calls from Teams.",
    }
    data.update(overrides)
    return data


# --- Products ---------------------------------------------------------------------------------


def test_distributor_creates_edits_and_retires_a_product_with_audit(app, staff, client):
    """A new product is listed and searchable; an edit audits before/after of the changed
    fields only; retiring sets discontinued and never deletes the row."""
    token = _token(client)
    response = client.post("/products/new", data={"csrf_token": token, **_product_form(app)})
    assert response.status_code == 303
    page = client.get("/products?q=NEW-001").get_data(as_text=True)
    assert "Teams Phone" in page and "Cloud Server S" not in page
    product = _product(app, "NEW-001")
    assert (product.billing_period, product.category) == ("Annual", "Productivity")
    created = _audits(app, "product.create")[-1]
    assert created.after["sku"] == "NEW-001" and created.entity_id == product.id

    edit = f"/products/{product.id}/edit"
    response = client.post(
        edit,
        data={"csrf_token": _token(client, edit), **_product_form(app, name="Teams Phone Pro")},
    )
    assert response.status_code == 303
    update = _audits(app, "product.update")[-1]
    assert (update.before, update.after) == ({"name": "Teams Phone"}, {"name": "Teams Phone Pro"})

    client.post(f"/products/{product.id}/retire", data={"csrf_token": _token(client, edit)})
    retired = _product(app, "NEW-001")
    assert retired is not None and retired.discontinued is True
    assert _audits(app, "product.retire")[-1].after == {"discontinued": True}
    assert "retired" in client.get("/products?q=NEW-001").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sku": "OSS-001"}, "sku", "Another product already has the SKU OSS-001"),
        ({"sku": ""}, "sku", "Enter the product&#39;s SKU."),
        ({"name": ""}, "name", "Enter the product&#39;s name."),
        ({"sku": "X" * 65}, "sku", "Use at most 64 characters."),
        ({"platform_id": "999999"}, "platform_id", "Not a valid choice"),
        ({"billing_period": "Weekly"}, "billing_period", "Not a valid choice"),
    ],
)
def test_bad_product_input_is_refused_next_to_the_field(
    app, staff, client, overrides, field, message
):
    """Each bad input answers 400 with the message under its own field and saves nothing."""
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Product))
    response = client.post(
        "/products/new", data={"csrf_token": _token(client), **_product_form(app, **overrides)}
    )
    assert response.status_code == 400
    assert f'id="{field}-error"' in (page := response.get_data(as_text=True))
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == before


def test_renaming_a_sku_onto_another_is_refused(app, staff, client):
    """Editing a product to a SKU another product has is a message next to the SKU."""
    product = _product(app, "OSS-002")
    edit = f"/products/{product.id}/edit"
    response = client.post(
        edit,
        data={"csrf_token": _token(client, edit), **_product_form(app, sku="OSS-001")},
    )
    assert response.status_code == 400
    assert "Another product already has the SKU OSS-001" in response.get_data(as_text=True)
    assert _product(app, "OSS-002").name == product.name


# --- Price lists ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("XYZ", "Choose a currency by its ISO 4217 code"),
        ("XXX", "XXX is not money"),
        ("XTS", "XTS is not money"),
        ("XAU", "XAU is not money"),
        ("", "Choose a currency by its ISO 4217 code"),
    ],
)
def test_price_list_currency_must_be_money(app, staff, client, currency, message):
    """An unknown code or a non-monetary ISO 4217 unit is refused next to the currency."""
    response = client.post(
        "/price-lists/new",
        data={"csrf_token": _token(client, "/price-lists/new"), "name": "X", "currency": currency},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="currency-error"' in page
    with app.app_context():
        assert db.session.scalar(select(PriceList).where(PriceList.name == "X")) is None


def test_price_list_in_any_currency_copied_with_rate_and_rounding(app, staff, client):
    """A JPY list copied from Partner EUR at 1 EUR = 161.5 JPY, rounded up to whole amounts:
    every item is the source price × rate rounded, and the creation is audited."""
    source = price_list_id(app, "Partner EUR")
    response = client.post(
        "/price-lists/new",
        data={
            "csrf_token": _token(client, "/price-lists/new"),
            "name": "Partner JPY",
            "currency": "JPY",
            "active": "y",
            "copy_from": str(source),
            "exchange_rate": "161.5",
            "rounding": "up_whole",
        },
    )
    assert response.status_code == 303
    new = price_list_id(app, "Partner JPY")
    source_prices, copied = _prices(app, source), _prices(app, new)
    assert set(copied) == set(source_prices) and len(copied) == 64
    for sku, price in source_prices.items():
        assert copied[sku] == (price * D("161.5")).to_integral_value(rounding="ROUND_CEILING")
    entry = _audits(app, "price_list.create")[-1]
    assert entry.after["exchange_rate"] == "161.5" and entry.after["copied"] == 64


def test_copy_between_currencies_needs_a_typed_rate(app, staff, client):
    """Copying EUR prices into a USD list without a rate is refused next to the rate."""
    response = client.post(
        "/price-lists/new",
        data={
            "csrf_token": _token(client, "/price-lists/new"),
            "name": "Copy USD",
            "currency": "USD",
            "copy_from": str(price_list_id(app, "Partner EUR")),
            "exchange_rate": "",
            "rounding": "cent",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="exchange_rate-error"' in page and "never guesses a rate" in page


def test_items_added_priced_inline_removed_and_list_deactivated(app, staff, client):
    """Add by SKU, edit a price inline over htmx with the CSRF header only, refuse negative
    and non-numeric prices in the row, remove, deactivate; each audited."""
    token = _token(client, "/price-lists/new")
    client.post(
        "/price-lists/new",
        data={
            "csrf_token": token,
            "name": "Small GBP",
            "currency": "GBP",
            "active": "y",
            "rounding": "cent",
        },
    )
    list_id = price_list_id(app, "Small GBP")
    view = f"/price-lists/{list_id}"
    bad = client.post(f"{view}/items", data={"csrf_token": token, "sku": "NOPE-1", "price": "1"})
    assert bad.status_code == 400 and "No product has the SKU" in bad.get_data(as_text=True)
    client.post(f"{view}/items", data={"csrf_token": token, "sku": "OSS-001", "price": "9.50"})
    assert _prices(app, list_id) == {"OSS-001": D("9.50")}
    page = client.get(view).get_data(as_text=True)
    assert "Cloud Server S" in page and 'value="9.50"' in page and "1 products" in page
    with app.app_context():
        item_id = db.session.scalar(
            select(PriceListItem.id).where(PriceListItem.price_list_id == list_id)
        )
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    for raw, message in [("-3", "cannot be negative"), ("abc", "as a number")]:
        row = client.post(f"{view}/items/{item_id}", data={"price": raw}, headers=headers)
        assert row.status_code == 200 and message in row.get_data(as_text=True)
        assert f'id="item-{item_id}"' in row.get_data(as_text=True)
    assert _prices(app, list_id) == {"OSS-001": D("9.50")}
    row = client.post(f"{view}/items/{item_id}", data={"price": "11"}, headers=headers)
    assert "Saved." in row.get_data(as_text=True)
    assert _prices(app, list_id) == {"OSS-001": D("11")}
    change = _audits(app, "price_list.price")[-1]
    assert (change.before["retail_price"], change.after["retail_price"]) == ("9.5000", "11")

    client.post(f"{view}/items/{item_id}/remove", data={"csrf_token": token})
    assert _prices(app, list_id) == {}
    assert _audits(app, "price_list.remove")[-1].before["retail_price"] == "11.0000"
    client.post(f"{view}/active", data={"csrf_token": token, "active": "0"})
    with app.app_context():
        assert db.session.get(PriceList, list_id).active is False
    assert _audits(app, "price_list.deactivate")[-1].after == {"active": False}


def test_tenant_actions_stay_404_for_the_distributor_and_its_actions_404_for_a_tenant(
    app, staff, client
):
    """The distributor's item routes are refused without a CSRF token and another
    organization's list ids are 404."""
    list_id = price_list_id(app, "Partner EUR")
    assert client.post(f"/price-lists/{list_id}/active", data={"active": "0"}).status_code == 400
    token = _token(client, "/price-lists/new")
    assert client.post("/price-lists/999999/active", data={"csrf_token": token}).status_code == 404


# --- CSV --------------------------------------------------------------------------------------


def _upload(client, list_id, text, token):
    return client.post(
        f"/price-lists/{list_id}/import",
        data={"csrf_token": token, "file": (io.BytesIO(text.encode()), "prices.csv")},
        content_type="multipart/form-data",
    )


def test_csv_export_then_import_changes_only_after_confirmation(app, staff, client):
    """The export reads back; a changed price is previewed, nothing changes until the import
    is confirmed, then exactly that price changes and the import is audited."""
    list_id = price_list_id(app, "Partner EUR")
    exported = client.get(f"/price-lists/{list_id}/export.csv").get_data(as_text=True)
    lines = exported.splitlines()
    assert lines[0] == "sku,name,retail_price" and len(lines) == 65
    before = _prices(app, list_id)
    sku = lines[1].split(",")[0]
    lines[1] = f"{sku},whatever,123.45"
    token = _token(client, f"/price-lists/{list_id}/import")
    preview = _upload(client, list_id, "\n".join(lines), token)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "0 products would be added, 1 prices changed, 63 left as they are" in page
    assert _prices(app, list_id) == before
    import re

    staged = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    done = client.post(
        f"/price-lists/{list_id}/import/confirm", data={"csrf_token": token, "token": staged}
    )
    assert done.status_code == 303
    after = _prices(app, list_id)
    assert after[sku] == D("123.45")
    assert {k: v for k, v in after.items() if k != sku} == {
        k: v for k, v in before.items() if k != sku
    }
    assert _audits(app, "price_list.import")[-1].after == {
        "added": 0,
        "changed": 1,
        "unchanged": 63,
    }


def test_wrong_csv_header_is_a_clear_error(app, staff, client):
    """A file without sku and retail_price columns is refused before any row is read."""
    list_id = price_list_id(app, "Partner EUR")
    token = _token(client, f"/price-lists/{list_id}/import")
    response = _upload(client, list_id, "code,price\nOSS-001,1\n", token)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "must name the columns sku and retail_price" in page and "found: code, price" in page


def test_ten_thousand_rows_with_three_bad_ones_import_nothing_and_name_each(app, staff, client):
    """10,000 rows, three bad (unknown SKU, negative price, non-numeric price): the preview
    names each by row and column, nothing is imported, and no confirmation is offered."""
    with app.app_context():
        platform = db.session.scalar(select(ProvisioningPlatform.id).limit(1))
        db.session.execute(
            Product.__table__.insert(),
            [
                {
                    "organization_id": staff,
                    "platform_id": platform,
                    "sku": f"BULK-{i:05d}",
                    "name": f"Bulk {i}",
                    "description": "",
                    "category": "Bulk",
                    "billing_period": "Monthly",
                    "image_path": "",
                    "marketing_html": "",
                    "discontinued": False,
                }
                for i in range(10_000)
            ],
        )
        db.session.commit()
    rows = [f"BULK-{i:05d},{i % 50}.25" for i in range(10_000)]
    rows[10] = "NOPE-1,3.00"
    rows[4999] = "BULK-04999,-2"
    rows[9998] = "BULK-09998,twelve"
    text = "sku,retail_price\n" + "\n".join(rows) + "\n"
    list_id = price_list_id(app, "Microsoft only EUR")
    before = _prices(app, list_id)
    response = _upload(client, list_id, text, _token(client, f"/price-lists/{list_id}/import"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "3 rows have errors: nothing was imported" in page
    assert "<td>12</td><td>sku</td><td>No product has the SKU NOPE-1.</td>" in page
    assert "<td>5001</td><td>retail_price</td><td>A price cannot be negative.</td>" in page
    assert "<td>10000</td><td>retail_price</td><td>Enter a price as a number" in page
    assert "Confirm the import" not in page
    assert _prices(app, list_id) == before


# --- Readiness --------------------------------------------------------------------------------


def test_readiness_fix_link_creates_the_list_it_asked_for_and_turns_green(app, staff, client):
    """With Partner USD inactive, Contoso Lite (USD) is not ready; the fix link opens the new
    price list form pre-filled with USD; a USD copy of Partner EUR makes it ready."""
    contoso = f"/accounts/{account_id(app, 'Contoso Lite')}"
    usd = price_list_id(app, "Partner USD")
    client.post(
        f"/price-lists/{usd}/active",
        data={"csrf_token": _token(client, "/price-lists/new"), "active": "0"},
    )
    page = client.get(contoso).get_data(as_text=True)
    assert "Not ready to become a tenant reseller yet." in page
    link = "/price-lists/new?currency=USD&amp;name=Contoso+Lite+USD"
    assert f'href="{link}">Create a new price list in USD</a>' in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert '<option selected value="USD">' in form
    response = client.post(
        "/price-lists/new",
        data={
            "csrf_token": csrf_from(form),
            "name": "Partner USD 2027",
            "currency": "USD",
            "active": "y",
            "copy_from": str(price_list_id(app, "Partner EUR")),
            "exchange_rate": "1.08",
            "rounding": "ninety_nine",
        },
    )
    assert response.status_code == 303
    page = client.get(contoso).get_data(as_text=True)
    assert "Ready to become a tenant reseller with Partner USD 2027." in page


# --- Updates available on the tenants of a changed price list ---------------------------------


def _copy(app, org_id, sku) -> Product | None:
    with app.app_context():
        copy = db.session.scalar(
            select(Product).where(Product.organization_id == org_id, Product.sku == sku)
        )
        if copy is not None:
            db.session.expunge(copy)
        return copy


def test_price_list_changes_show_as_updates_on_the_tenant_and_update_transfers_them(
    app, staff, client, run_jobs
):
    """Northwind's tenant from Partner EUR: a price change, a product added and one retired
    on the distributor's pages show "Updates available" with 1 new, 1 changed, 1 retired;
    Update Tenant Partial transfers only the price, Full the rest, then it is up to date."""
    from tests.helpers import submit_creation

    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        from webapp.models import TenantReseller

        row = db.session.scalar(select(TenantReseller))
        tenant_id, tenant_org = row.id, row.tenant_organization_id
    page_url = f"/tenant-resellers/{tenant_id}"
    assert "Up to date with Partner EUR" in client.get(page_url).get_data(as_text=True)

    partner = price_list_id(app, "Partner EUR")
    token = _token(client)
    with app.app_context():
        item_id = db.session.scalar(
            select(PriceListItem.id)
            .join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == partner, Product.sku == "OSS-001")
        )
    client.post(
        f"/price-lists/{partner}/items/{item_id}",
        data={"price": "77.70"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    client.post("/products/new", data={"csrf_token": token, **_product_form(app)})
    client.post(
        f"/price-lists/{partner}/items",
        data={"csrf_token": token, "sku": "NEW-001", "price": "20"},
    )
    retired = _product(app, "ACRONIS-002")
    client.post(f"/products/{retired.id}/retire", data={"csrf_token": token})

    page = client.get(page_url).get_data(as_text=True)
    assert "Updates available</strong> in Partner EUR: 1 new, 1 changed, 1 retired" in page

    client.post(f"{page_url}/update", data={"csrf_token": token, "mode": "partial"})
    run_jobs()
    assert _copy(app, tenant_org, "OSS-001").cost_price == D("77.70")
    assert _copy(app, tenant_org, "NEW-001") is None
    assert _copy(app, tenant_org, "ACRONIS-002").discontinued is False
    page = client.get(page_url).get_data(as_text=True)
    assert "Updates available</strong> in Partner EUR: 1 new, 0 changed, 1 retired" in page

    client.post(f"{page_url}/update", data={"csrf_token": token, "mode": "full"})
    run_jobs()
    assert _copy(app, tenant_org, "NEW-001").cost_price == D("20")
    assert _copy(app, tenant_org, "ACRONIS-002").discontinued is True
    assert "Up to date with Partner EUR" in client.get(page_url).get_data(as_text=True)


# --- The range of products inherited ----------------------------------------------------------


def test_range_count_is_live_and_a_tenant_created_with_microsoft_only_copies_exactly_those(
    app, staff, client, run_jobs
):
    """The creation form's range fragment counts the products to copy; Northwind's tenant
    created from Partner EUR with only Microsoft gets exactly the Microsoft products, the
    range is stored, and a Full Update Tenant later adds only new Microsoft products."""
    from tests.helpers import creation_url, open_creation_form, post_creation
    from webapp.models import TenantReseller

    microsoft = _platform(app, "microsoft")
    partner = price_list_id(app, "Partner EUR")
    fragment = client.get(
        f"/tenant-range?price_list={partner}&range_platforms={microsoft}"
    ).get_data(as_text=True)
    assert "16 products will be copied." in fragment
    everything = client.get(f"/tenant-range?price_list={partner}").get_data(as_text=True)
    assert "64 products will be copied." in everything
    form = client.get(creation_url(app)).get_data(as_text=True)
    assert "Range of products inherited" in form and "64 products will be copied." in form

    token = open_creation_form(client, app)
    response = post_creation(client, app, token, range_platforms=str(microsoft))
    assert response.status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        assert tenant.status == "Active" and tenant.range_platform_ids == [microsoft]
        tenant_id, org = tenant.id, tenant.tenant_organization_id
        copied = set(db.session.scalars(select(Product.sku).where(Product.organization_id == org)))
        expected = set(
            db.session.scalars(
                select(Product.sku)
                .join(PriceListItem, PriceListItem.product_id == Product.id)
                .where(PriceListItem.price_list_id == partner, Product.platform_id == microsoft)
            )
        )
    assert copied == expected and len(copied) == 16

    token = _token(client)
    client.post("/products/new", data={"csrf_token": token, **_product_form(app)})
    client.post(
        "/products/new",
        data={
            "csrf_token": token,
            **_product_form(app, sku="NEW-OSS", platform_id=str(_platform(app, "oss"))),
        },
    )
    for sku in ("NEW-001", "NEW-OSS"):
        client.post(
            f"/price-lists/{partner}/items", data={"csrf_token": token, "sku": sku, "price": "5"}
        )
    page = client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True)
    assert "1 new, 0 changed, 0 retired" in page
    client.post(f"/tenant-resellers/{tenant_id}/update", data={"csrf_token": token, "mode": "full"})
    run_jobs()
    assert _copy(app, org, "NEW-001") is not None and _copy(app, org, "NEW-OSS") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Product.organization_id == org)) == 17


def test_a_range_without_products_is_refused(app, staff, client):
    """Ticking a platform and a category with nothing in common copies nothing: refused with
    the message in the range fieldset, and no tenant is made."""
    from tests.helpers import open_creation_form, post_creation
    from webapp.models import TenantReseller

    token = open_creation_form(client, app)
    response = post_creation(
        client,
        app,
        token,
        range_platforms=str(_platform(app, "microsoft")),
        range_categories="Backup",
    )
    assert response.status_code == 400
    assert "No product of the price list is in this range" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TenantReseller)) is None


def test_a_big_copy_runs_as_a_queued_process_on_a_real_worker(app, staff, client, run_jobs):
    """A copy of more items than the inline limit makes the list at once and queues a
    process that copies the prices in committed batches; the worker copies every one."""
    from webapp.models import Process

    app.config.update(PRICE_LIST_COPY_INLINE_MAX=10, COPY_BATCH_SIZE=7)
    source = price_list_id(app, "Partner EUR")
    response = client.post(
        "/price-lists/new",
        data={
            "csrf_token": _token(client, "/price-lists/new"),
            "name": "Big GBP",
            "currency": "GBP",
            "active": "y",
            "copy_from": str(source),
            "exchange_rate": "0.85",
            "rounding": "cent",
        },
    )
    assert response.status_code == 303 and "/processes/" in response.headers["Location"]
    target = price_list_id(app, "Big GBP")
    assert _prices(app, target) == {}
    run_jobs()
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "price_list_copy"))
        assert process.status == "Completed"
        assert process.tasks[0].message.startswith("64 prices copied from Partner EUR")
    copied = _prices(app, target)
    assert {
        sku: (price * D("0.85")).quantize(D("0.01"), "ROUND_HALF_UP")
        for sku, price in _prices(app, source).items()
    } == copied


def test_update_tenant_can_narrow_the_range_and_keeps_it(app, staff, client, run_jobs):
    """The Update Tenant card shows the stored range ticked; narrowing it to Microsoft with a
    Full update stores it (audited) and marks the other copies discontinued."""
    from tests.helpers import submit_creation
    from webapp.models import TenantReseller

    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        tenant = db.session.scalar(select(TenantReseller))
        tenant_id, org = tenant.id, tenant.tenant_organization_id
    microsoft = _platform(app, "microsoft")
    page = client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True)
    assert "Range of products inherited" in page and "64 products will be copied." in page
    client.post(
        f"/tenant-resellers/{tenant_id}/update",
        data={
            "csrf_token": _token(client),
            "mode": "full",
            "range_shown": "1",
            "range_platforms": str(microsoft),
        },
    )
    run_jobs()
    with app.app_context():
        assert db.session.get(TenantReseller, tenant_id).range_platform_ids == [microsoft]
        sold = db.session.scalars(
            select(Product.platform_id).where(
                Product.organization_id == org, Product.discontinued.is_(False)
            )
        ).all()
    assert set(sold) == {microsoft} and len(sold) == 16
    assert _audits(app, "tenant_reseller.range")[-1].after == {
        "platforms": [microsoft],
        "categories": None,
    }
    page = client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True)
    assert "Up to date with Partner EUR" in page
    assert f'value="{microsoft}" checked' in page
