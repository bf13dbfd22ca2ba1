"""The tenant's public storefront: brand, catalogue by category with prices in the tenant's
currency and language, product pages, isolation between organizations, the neutral page for
unknown or inactive stores, and Premium custom domains."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from tests.conftest import csrf_from
from tests.helpers import GOOD_PASSWORD, submit_creation
from webapp.extensions import db
from webapp.models import (
    Organization,
    OrgStatus,
    PriceList,
    PriceListItem,
    Product,
    Storefront,
    utcnow,
)

NEUTRAL = "This store is not available"
XSS = (
    "<script>alert(1)</script>"
    "<img src=x onerror=alert(1)>"
    '<a href="javascript:alert(1)">js link</a>'
    "<svg onload=alert(1)></svg>"
    '<p style="background:url(javascript:alert(1))">styled</p>'
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>'
    '<iframe src="https://evil.example/"></iframe>'
    '<object data="https://evil.example/x.swf"></object>'
    "<p><strong>Safe and sound</strong></p>"
)
# Nothing of the payloads may reach the page (the page's own htmx <script src> aside).
XSS_TRACES = [
    "alert(1)",
    "onerror",
    "onload",
    "javascript:",
    "data:text/html",
    "<svg",
    "<iframe",
    "<object",
    'style="',
    "evil.example",
]


def make_tenant(app, auth, client, run_jobs, account="Northwind Cloud", **overrides) -> dict:
    """Create a tenant through the real form and worker, as the distributor; signed out after."""
    auth.login()
    response = submit_creation(client, app, account=account, **overrides)
    assert response.status_code == 303
    run_jobs()
    client.post("/logout", data={"csrf_token": auth.token()})
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == account))
        assert org is not None and org.status == OrgStatus.ACTIVE
        storefront = db.session.scalar(Storefront.in_org(org.id))
        return {
            "org_id": org.id,
            "client_id": org.client_id,
            "slug": storefront.slug,
            "storefront_id": storefront.id,
            "store": f"/store/{storefront.slug}",
        }


def sign_in_as_tenant(auth, tenant: dict):
    response = auth.login(client_id=tenant["client_id"], username="nwadmin", password=GOOD_PASSWORD)
    assert response.status_code == 302
    return response


def product_id(app, org_id: int, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Product.id).where(Product.organization_id == org_id, Product.name == name)
        )


def update_storefront(app, storefront_id: int, **values) -> None:
    with app.app_context():
        storefront = db.session.get(Storefront, storefront_id)
        for key, value in values.items():
            setattr(storefront, key, value)
        db.session.commit()


def update_org(app, org_id: int, **values) -> None:
    with app.app_context():
        org = db.session.get(Organization, org_id)
        for key, value in values.items():
            setattr(org, key, value)
        db.session.commit()


@pytest.fixture
def tenant(app, demo, auth, client, run_jobs):
    """Northwind Cloud as a Premium tenant in German (the creation form's defaults)."""
    return make_tenant(app, auth, client, run_jobs)


def test_home_shows_the_brand_hero_and_featured_categories(app, client, tenant):
    """The home page carries the tenant's brand, hero and its categories, and the brand's
    colours arrive through brand.css (no inline styles)."""
    update_storefront(
        app, tenant["storefront_id"], primary_color="#123456", hero_title="Clouds for Berlin"
    )
    page = client.get(tenant["store"] + "/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Northwind Cloud" in html and "Clouds for Berlin" in html
    assert "Cloud services, ready when you are." in html
    for category in ("Backup", "Hosting", "Productivity", "Security"):
        assert f"/catalogue?category={category}" in html
    assert "16 products" in html
    assert "style=" not in html
    css = client.get(tenant["store"] + "/brand.css")
    assert css.mimetype == "text/css"
    assert "--brand-primary: #123456" in css.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "price"),
    [("de", "46,25\xa0€"), ("en", "€46.25"), ("nl", "€\xa046,25")],
)
def test_prices_are_in_the_tenant_currency_and_language(
    app, demo, auth, client, run_jobs, language, price
):
    """A product's sell price is formatted with Babel for the tenant organization's language."""
    tenant = make_tenant(app, auth, client, run_jobs, language=language)
    catalogue = client.get(tenant["store"] + "/catalogue?category=Productivity")
    html = catalogue.get_data(as_text=True)
    assert catalogue.status_code == 200
    assert "Azure Plan" in html and price in html
    azure = product_id(app, tenant["org_id"], "Azure Plan")
    product = client.get(f"{tenant['store']}/products/{azure}").get_data(as_text=True)
    assert "Azure Plan" in product and price in product


def test_catalogue_lists_one_category_at_a_time(app, client, tenant):
    """?category= shows that category's products only; without it, all; unknown → 404."""
    html = client.get(tenant["store"] + "/catalogue?category=Backup").get_data(as_text=True)
    assert "Cyber Protect Standard Server" in html
    assert "Azure Plan" not in html and "Cloud Server S" not in html
    assert "16 products" in html
    everything = client.get(tenant["store"] + "/catalogue").get_data(as_text=True)
    assert "64 products" in everything and "page 1 of 2" in everything
    second = client.get(tenant["store"] + "/catalogue?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    unknown = client.get(tenant["store"] + "/catalogue?category=Nope")
    assert unknown.status_code == 404
    assert "Northwind Cloud" in unknown.get_data(as_text=True)  # still in the store's brand


def test_product_page_shows_name_description_image_and_marketing(app, client, tenant):
    """The product page has the name, description, image (with alt text) and marketing text."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    with app.app_context():
        product = db.session.get(Product, pid)
        product.image_path = "a" * 32 + ".png"
        product.marketing_html = "<p>Pay <em>only</em> for what you use.</p>"
        db.session.commit()
    html = client.get(f"{tenant['store']}/products/{pid}").get_data(as_text=True)
    assert "<h1>Azure Plan</h1>" in html
    assert "Azure Plan — provisioned through Microsoft 365 &amp; Azure." in html
    assert f'src="/media/{"a" * 32}.png" alt="Azure Plan"' in html
    assert "<p>Pay <em>only</em> for what you use.</p>" in html
    assert "Productivity" in html  # breadcrumb to its category


def test_add_to_cart_is_a_post_form_with_csrf(app, client, tenant):
    """With the cart built, each product offers an Add to cart POST form with its token."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    html = client.get(f"{tenant['store']}/products/{pid}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" class="add-to-cart">', html)
    assert form and form.group(1) == f"{tenant['store']}/cart/add/{pid}"
    assert 'name="csrf_token"' in html
    assert '<label for="quantity">Quantity</label>' in html
    token = csrf_from(html)
    added = client.post(form.group(1), data={"csrf_token": token, "quantity": "2"})
    assert added.status_code == 303


def test_products_without_a_price_are_not_shown(app, client, tenant):
    """A product missing from the storefront's price list is not listed and has no page."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    with app.app_context():
        db.session.execute(delete(PriceListItem).where(PriceListItem.product_id == pid))
        db.session.commit()
    html = client.get(tenant["store"] + "/catalogue?category=Productivity").get_data(as_text=True)
    assert "Azure Plan" not in html and "15 products" in html
    missing = client.get(f"{tenant['store']}/products/{pid}")
    assert missing.status_code == 404
    assert "Product not found" in missing.get_data(as_text=True)


def test_the_storefronts_own_price_list_is_used_when_set(app, client, tenant):
    """Storefront.price_list_id picks the list, its prices and its currency."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    with app.app_context():
        usd = PriceList(organization_id=tenant["org_id"], name="Web USD", currency="USD")
        db.session.add(usd)
        db.session.flush()
        db.session.add(
            PriceListItem(
                organization_id=tenant["org_id"],
                price_list_id=usd.id,
                product_id=pid,
                retail_price=Decimal("1234.5"),
            )
        )
        db.session.get(Storefront, tenant["storefront_id"]).price_list_id = usd.id
        db.session.commit()
    html = client.get(tenant["store"] + "/catalogue").get_data(as_text=True)
    assert "1.234,50\xa0$" in html and "1 product" in html
    assert "Cloud Server S" not in html  # not in that list
    home = client.get(tenant["store"] + "/").get_data(as_text=True)
    assert "Productivity" in home and "Backup" not in home


def _other_tenant(app, parent_id: int) -> dict:
    """A second tenant organization with a storefront and one priced product."""
    with app.app_context():
        org = Organization(
            name="Contoso Shop",
            client_id="CONTOSO123",
            parent_id=parent_id,
            edition="Premium",
            currency="EUR",
            status=OrgStatus.ACTIVE,
        )
        db.session.add(org)
        db.session.flush()
        platform_id = db.session.scalar(select(Product.platform_id).limit(1))
        product = Product(
            organization_id=org.id, platform_id=platform_id, sku="C-1", name="Contoso Secret"
        )
        price_list = PriceList(organization_id=org.id, name="Contoso EUR", currency="EUR")
        db.session.add_all([product, price_list])
        db.session.flush()
        db.session.add(
            PriceListItem(
                organization_id=org.id,
                price_list_id=price_list.id,
                product_id=product.id,
                retail_price=Decimal("9.99"),
            )
        )
        storefront = Storefront(organization_id=org.id, slug="contoso-shop", brand_name="Contoso")
        db.session.add(storefront)
        db.session.commit()
        return {"org_id": org.id, "product_id": product.id, "store": "/store/contoso-shop"}


def test_another_organizations_products_are_not_found(app, demo, client, tenant, auth):
    """By id, a product of another tenant or of the distributor is 404 on this storefront —
    also for the tenant's own signed-in user — and its name never appears."""
    other = _other_tenant(app, demo)
    with app.app_context():
        distributor_product = db.session.scalar(
            select(Product.id).where(Product.organization_id == demo).limit(1)
        )
    assert client.get(f"{other['store']}/products/{other['product_id']}").status_code == 200
    sign_in_as_tenant(auth, tenant)
    for pid in (other["product_id"], distributor_product, 999_999):
        response = client.get(f"{tenant['store']}/products/{pid}")
        html = response.get_data(as_text=True)
        assert response.status_code == 404, pid
        assert "Contoso" not in html and "Northwind Cloud" in html
    catalogue = client.get(tenant["store"] + "/catalogue").get_data(as_text=True)
    assert "Contoso Secret" not in catalogue


@pytest.mark.parametrize("status", [OrgStatus.MARKED_AS_DELETED, OrgStatus.IN_PROGRESS])
def test_a_tenant_that_is_not_active_shows_the_neutral_page(app, client, tenant, status):
    """Every storefront page of a tenant that is neither Active nor Suspended is the neutral
    404, no brand (a Suspended one is its branded 503: tests/test_tenant_lifecycle.py)."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    update_org(app, tenant["org_id"], status=status)
    for path in ("/", "/catalogue", f"/products/{pid}", "/brand.css"):
        response = client.get(tenant["store"] + path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404, path
        assert NEUTRAL in html and "Northwind" not in html and "Azure" not in html


def test_an_unknown_store_shows_the_neutral_page(app, client, tenant):
    """An unknown slug is the same neutral 404, never another store's brand."""
    for path in ("/store/no-such-store/", "/store/no-such-store/catalogue"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert NEUTRAL in html and "Northwind" not in html


def test_tenant_html_is_sanitized_when_rendered(app, client, tenant):
    """Hero and marketing HTML that somehow holds XSS payloads (written past the editor) are
    cleaned again on the way out: no script, handler, javascript:/data: URL, style or embed."""
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    update_storefront(app, tenant["storefront_id"], hero_text=XSS)
    with app.app_context():
        db.session.get(Product, pid).marketing_html = XSS
        db.session.commit()
    for path in ("/", f"/products/{pid}"):
        html = client.get(tenant["store"] + path).get_data(as_text=True)
        assert "<strong>Safe and sound</strong>" in html, path
        for trace in XSS_TRACES:
            assert trace not in html, (path, trace)
        assert html.count("<script") == 1  # only the vendored htmx


# --- Premium custom domains --------------------------------------------------------------


def test_a_premium_custom_domain_serves_that_storefront(app, client, tenant):
    """Host: shop.example.com (any port, any case) is the Premium tenant's storefront; static
    files and media pass through; the BSS and other stores are not reachable there."""
    update_storefront(
        app, tenant["storefront_id"], custom_domain="shop.example.com", domain_verified_at=utcnow()
    )
    other = _other_tenant(app, update_org_parent(app, tenant))
    pid = product_id(app, tenant["org_id"], "Azure Plan")
    for host in ("shop.example.com", "SHOP.example.com:8443", "shop.example.com."):
        home = client.get("/", headers={"Host": host})
        assert home.status_code == 200, host
        assert "Cloud services, ready when you are." in home.get_data(as_text=True)
    headers = {"Host": "shop.example.com"}
    catalogue = client.get("/catalogue?category=Productivity", headers=headers)
    assert "46,25\xa0€" in catalogue.get_data(as_text=True)
    assert client.get(f"/products/{pid}", headers=headers).status_code == 200
    assert client.get(f"/products/{other['product_id']}", headers=headers).status_code == 404
    assert client.get("/brand.css", headers=headers).mimetype == "text/css"
    assert client.get(tenant["store"] + "/catalogue", headers=headers).status_code == 200
    with client.get("/static/store.css", headers=headers) as static:
        assert static.status_code == 200
    login = client.get("/login", headers=headers)  # the store's customer sign-in, not the BSS's
    assert login.status_code == 200 and "Client ID" not in login.get_data(as_text=True)
    assert client.get("/accounts/", headers=headers).status_code == 404
    assert client.get(other["store"] + "/", headers=headers).status_code == 404
    # The platform's own host is unaffected.
    assert client.get("/", headers={"Host": "localhost"}).status_code == 302


def update_org_parent(app, tenant: dict) -> int:
    with app.app_context():
        return db.session.get(Organization, tenant["org_id"]).parent_id


def test_a_basic_tenants_domain_is_not_served(app, demo, auth, client, run_jobs):
    """A Basic tenant's configured domain (and footer links) do nothing: Premium only."""
    tenant = make_tenant(app, auth, client, run_jobs, edition="Basic")
    links = [{"label": "Terms", "url": "https://northwind.example/terms"}]
    update_storefront(
        app,
        tenant["storefront_id"],
        custom_domain="shop.example.com",
        domain_verified_at=utcnow(),
        footer_links=links,
    )
    response = client.get("/", headers={"Host": "shop.example.com"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "northwind.example/terms" not in client.get(tenant["store"] + "/").get_data(as_text=True)
    # Premium again: the domain and the footer links work.
    update_org(app, tenant["org_id"], edition="Premium")
    app.extensions["storefront_hosts"].forget()
    html = client.get("/", headers={"Host": "shop.example.com"}).get_data(as_text=True)
    assert "Northwind Cloud" in html
    assert '<a href="https://northwind.example/terms" rel="noopener noreferrer">Terms</a>' in html


def test_an_inactive_premium_tenants_domain_is_not_served(app, client, tenant):
    """A suspended Premium tenant's domain is not routed to its storefront."""
    update_storefront(
        app, tenant["storefront_id"], custom_domain="shop.example.com", domain_verified_at=utcnow()
    )
    update_org(app, tenant["org_id"], status=OrgStatus.SUSPENDED)
    response = client.get("/", headers={"Host": "shop.example.com"})
    assert response.status_code == 302
    assert "Northwind" not in response.get_data(as_text=True)


def test_unsafe_footer_links_are_never_shown(app, client, tenant):
    """Only http, https and mailto footer links reach the page, at most five."""
    links = [
        {"label": "Evil", "url": "javascript:alert(1)"},
        {"label": "Data", "url": "data:text/html,hi"},
        {"label": "Mail", "url": "mailto:sales@northwind.example"},
    ] + [{"label": f"L{i}", "url": f"https://northwind.example/{i}"} for i in range(6)]
    update_storefront(app, tenant["storefront_id"], footer_links=links)
    html = client.get(tenant["store"] + "/").get_data(as_text=True)
    assert "javascript:" not in html and "data:text" not in html
    assert 'href="mailto:sales@northwind.example"' in html
    assert "northwind.example/3" in html and "northwind.example/4" not in html


def test_unknown_pages_in_a_store_are_not_found_in_its_brand(app, client, tenant):
    """An unknown page under the store, on its path or its custom domain, is a 404 in the
    store's brand (or the neutral page for an unknown store), never the BSS's page."""
    update_storefront(
        app, tenant["storefront_id"], custom_domain="shop.example.com", domain_verified_at=utcnow()
    )
    for path, headers in [
        (tenant["store"] + "/no-such-page", {}),
        ("/no-such-page", {"Host": "shop.example.com"}),
        ("/favicon.ico", {"Host": "shop.example.com"}),
        ("/accounts/", {"Host": "shop.example.com"}),
    ]:
        response = client.get(path, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 404, path
        assert "Page not found" in html and "Northwind Cloud" in html, path
        assert "Tenant Reseller BSS" not in html, path
    unknown = client.get("/store/no-such-store/no-such-page")
    assert unknown.status_code == 404 and NEUTRAL in unknown.get_data(as_text=True)
    # Real pages still answer, and a missing trailing slash is still redirected.
    assert client.get(tenant["store"] + "/catalogue").status_code == 200
    assert client.get(tenant["store"]).status_code == 308


def test_every_store_page_has_the_same_menu_with_the_catalogue(app, client, tenant):
    """Catalogue was missing from the menu on the cart, sign-in, sign-up and account pages: the
    menu is now one list on every store page, the current page marked for screen readers."""
    store = tenant["store"]
    menu_pattern = re.compile(r'<nav aria-label="Store">(.*?)</nav>', re.S)
    for path, current in [
        ("/", "Home"),
        ("/catalogue", "Catalogue"),
        ("/cart", "Cart"),
        ("/login", "Sign in"),
        ("/signup", None),
        ("/forgot-password", None),
    ]:
        page = client.get(f"{store}{path}")
        assert page.status_code == 200, path
        menu = menu_pattern.search(page.get_data(as_text=True)).group(1)
        labels = re.findall(r">([^<>]+)</a>", menu)
        assert labels[:3] == ["Home", "Catalogue", "Cart"], (path, labels)
        marked = re.findall(r'aria-current="page">([^<]+)<', menu)
        assert marked == ([current] if current else []), (path, marked)


def test_a_discontinued_product_is_not_for_sale(app, client, tenant):
    """After Update Tenant marks a product discontinued, the storefront no longer lists it,
    its page is not found, it cannot be put in a cart, and a cart that held it drops it."""
    store = tenant["store"]
    pid = product_id(app, tenant["org_id"], "Microsoft 365 Business Basic")
    page = client.get(f"{store}/products/{pid}")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    assert client.post(f"{store}/cart/add/{pid}", data={"csrf_token": token}).status_code == 303
    assert "Microsoft 365 Business Basic" in client.get(f"{store}/cart").get_data(as_text=True)

    with app.app_context():
        db.session.get(Product, pid).discontinued = True
        db.session.commit()
    catalogue = client.get(f"{store}/catalogue").get_data(as_text=True)
    assert "Microsoft 365 Business Basic" not in catalogue
    assert client.get(f"{store}/products/{pid}").status_code == 404
    assert client.post(f"{store}/cart/add/{pid}", data={"csrf_token": token}).status_code == 404
    assert "Microsoft 365 Business Basic" not in client.get(f"{store}/cart").get_data(as_text=True)
