"""The tenant brands its storefront in Chromium, then an end customer buys there."""

from __future__ import annotations

import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS
from tests.helpers import GOOD_PASSWORD
from webapp.extensions import db
from webapp.models import Storefront, Subscription

pytestmark = pytest.mark.browser

BRAND = "Northwind Skies"
PRIMARY = "#0b5d3b"
PRIMARY_RGB = "rgb(11, 93, 59)"
ACCENT = "#ffc233"
ACCENT_RGB = "rgb(255, 194, 51)"
HERO_TITLE = "Cloud services, by the month"
HERO_TEXT = "<p>Licences for your whole team, <strong>ready today</strong>.</p>"
PRODUCT = "Microsoft 365 Business Basic"
CUSTOMER_PASSWORD = "buyer-password-1"


@pytest.fixture
def logo_png(tmp_path):
    """A real 160 x 48 PNG logo made with Pillow, in a temporary file."""
    path = tmp_path / "northwind-logo.png"
    image = Image.new("RGB", (160, 48), (255, 255, 255))
    image.paste((255, 194, 51), (8, 8, 40, 40))
    image.paste((11, 93, 59), (48, 14, 152, 34))
    image.save(path, "PNG")
    return path


class InFlight:
    """The page's requests that have not finished yet (followed from creation on)."""

    def __init__(self, page):
        self.page = page
        self.pending: set = set()
        page.on("request", lambda request: self.pending.add(request))
        page.on("requestfinished", lambda request: self.pending.discard(request))
        page.on("requestfailed", lambda request: self.pending.discard(request))

    def wait_until_quiet(self, quiet_ms: int = 500, timeout_s: float = 20) -> None:
        """Wait until no request has been in flight for `quiet_ms`.

        Every response of the signed-in staff session re-sends its cookie, so one still in
        flight (a preview, its stylesheet) when Save is posted would overwrite the cookie that
        carries "Branding saved." (see the report: SESSION_REFRESH_EACH_REQUEST)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while True:
            now = time.monotonic()
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_ms / 1000:
                return
            assert now < deadline, f"still in flight: {[r.url for r in self.pending]}"
            self.page.wait_for_timeout(50)


def _natural_width(locator) -> int:
    """The width of the image as loaded (0 if the browser could not load it)."""
    locator.evaluate("img => img.decode()")
    return locator.evaluate("img => img.naturalWidth")


def test_tenant_brands_its_storefront_and_a_customer_buys_there(
    app,
    northwind_tenant,
    live_server,
    browser_page,
    new_page,
    sign_in,
    screenshot,
    logo_png,
    tmp_path,
):
    """The tenant's admin brands the storefront with a live preview and a logo, then an
    anonymous visitor sees that brand, fills a cart, signs up, orders and sees the
    subscription on the account page."""
    app.config["UPLOADS_DIR"] = str(tmp_path / "uploads")
    assert northwind_tenant.slug == "northwind-cloud"
    store = f"{live_server}/store/{northwind_tenant.slug}"

    # --- The tenant's administrator brands the storefront ---------------------------------
    page = browser_page
    sign_in(client_id=northwind_tenant.client_id, username="nwadmin", password=GOOD_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Branding").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Branding")
    preview = page.locator("#brand-preview-body")
    expect(preview.locator(".bp-brand")).to_have_text("Northwind Cloud")
    in_flight = InFlight(page)
    # A reload would lose this marker: the preview must change in place (htmx).
    page.evaluate("window.__noReload = 'still here'")

    page.get_by_label("Brand name").fill(BRAND)
    page.get_by_label("Primary colour").fill(PRIMARY)
    page.get_by_label("Accent colour").fill(ACCENT)
    page.get_by_label("Hero title").fill(HERO_TITLE)
    page.get_by_label("Hero text").fill(HERO_TEXT)
    page.get_by_label("Logo", exact=True).set_input_files(str(logo_png))

    expect(preview.locator(".bp-brand")).to_have_text(BRAND)
    expect(preview.locator(".bp-title")).to_have_text(HERO_TITLE)
    expect(preview.locator(".bp-text strong")).to_have_text("ready today")
    expect(preview.locator(".bp-header")).to_have_css("background-color", PRIMARY_RGB)
    expect(preview.locator(".bp-hero")).to_have_css("border-bottom-color", ACCENT_RGB)
    expect(preview.locator(".bp-footer")).to_contain_text(f"© {BRAND}")
    expect(page.locator("#contrast-warnings")).to_have_text("")
    assert page.evaluate("window.__noReload") == "still here"
    with app.app_context():  # the preview saved nothing
        assert db.session.scalar(select(Storefront.brand_name)) == "Northwind Cloud"
    # Leaving the last field fires its change (one more preview); then the person looks at
    # the preview before saving.
    page.evaluate("() => document.activeElement?.blur()")
    in_flight.wait_until_quiet()
    screenshot(page, "branding-preview")

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save").click()
    assert navigation.value.status == 200
    expect(page.get_by_role("status")).to_contain_text("Branding saved.")
    expect(page.get_by_role("status")).not_to_contain_text("contrast warnings")
    current_logo = page.get_by_role("img", name=f"Current logo of {BRAND}")
    assert _natural_width(current_logo) == 160
    expect(preview.get_by_role("img", name=BRAND)).to_be_visible()
    expect(page.get_by_label("Brand name")).to_have_value(BRAND)
    expect(page.get_by_label("Primary colour")).to_have_value(PRIMARY)
    screenshot(page, "branding-saved")
    with app.app_context():
        saved = db.session.scalar(select(Storefront))
        assert (saved.brand_name, saved.primary_color, saved.accent_color) == (
            BRAND,
            PRIMARY,
            ACCENT,
        )
        assert saved.hero_title == HERO_TITLE and saved.branded_at is not None
        assert re.fullmatch(r"[0-9a-f]{32}\.png", saved.logo_path), saved.logo_path

    # --- An anonymous end customer on the storefront --------------------------------------
    shop = new_page()
    shop.goto(f"{store}/")
    expect(shop).to_have_title(BRAND)
    header = shop.locator("header.store-header")
    logo = header.get_by_role("img", name=BRAND)
    assert _natural_width(logo) == 160
    expect(header).to_have_css("background-color", PRIMARY_RGB)
    expect(shop.get_by_role("heading", level=1)).to_have_text(HERO_TITLE)
    expect(shop.locator(".hero-text strong")).to_have_text("ready today")
    expect(shop.locator(".hero")).to_have_css("border-bottom-color", ACCENT_RGB)
    expect(shop.locator("footer")).to_contain_text(f"© {BRAND}")
    expect(shop.get_by_role("heading", name="Featured categories")).to_be_visible()
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    shop.screenshot(path=str(ARTIFACTS / "storefront-home.png"), full_page=True)

    shop.get_by_role("link", name="Browse the catalogue").click()
    expect(shop.get_by_role("heading", level=1)).to_have_text("All products")
    expect(shop).to_have_title(f"Catalogue · {BRAND}")
    shop.get_by_role("navigation", name="Categories").get_by_role(
        "link", name=re.compile(r"^Productivity")
    ).click()
    expect(shop.get_by_role("heading", level=1)).to_have_text("Productivity")
    shop.get_by_role("link", name=PRODUCT, exact=True).click()
    expect(shop.get_by_role("heading", level=1)).to_have_text(PRODUCT)
    expect(shop.locator(".product .price")).to_contain_text("€")
    shop.get_by_label("Quantity").fill("3")
    shop.get_by_role("button", name="Add to cart").click()

    expect(shop.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(shop.get_by_role("status")).to_contain_text(f"{PRODUCT} is in your cart.")
    line = shop.locator("tbody tr").filter(has_text=PRODUCT)
    expect(line).to_have_count(1)
    expect(shop.get_by_label(f"Quantity of {PRODUCT}")).to_have_value("3")
    expect(header.get_by_role("link", name=re.compile(r"^Cart \(3\s*items\s*\)"))).to_be_visible()
    expect(shop.get_by_role("button", name="Place order")).to_have_count(0)
    screenshot(shop, "cart")

    shop.get_by_role("link", name="create an account").click()
    expect(shop.get_by_role("heading", level=1)).to_have_text("Create your account")
    shop.get_by_label("Company or your name").fill("Buyer GmbH")
    shop.get_by_label("Email").fill("buyer@example.com")
    shop.get_by_label("Password", exact=True).fill("too-short")
    shop.get_by_label("Password again").fill("too-short")
    with shop.expect_navigation() as navigation:
        shop.get_by_role("button", name="Create account").click()
    assert navigation.value.status == 400
    expect(shop.get_by_text("at least 12 characters")).to_be_visible()
    shop.get_by_label("Password", exact=True).fill(CUSTOMER_PASSWORD)
    shop.get_by_label("Password again").fill(CUSTOMER_PASSWORD)
    with shop.expect_navigation():
        shop.get_by_role("button", name="Create account").click()

    # Signing up keeps the cart, and the order can now be placed.
    expect(shop.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(shop.get_by_role("status")).to_contain_text("Welcome! Your account is ready.")
    expect(shop.locator("tbody tr").filter(has_text=PRODUCT)).to_have_count(1)
    shop.get_by_role("button", name="Place order").click()

    expect(shop.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(shop.get_by_role("status")).to_contain_text(re.compile(r"Thank you! Order SO-\S+"))
    expect(shop.get_by_text("Buyer GmbH · buyer@example.com")).to_be_visible()
    subscriptions = shop.locator("table").first
    row = subscriptions.locator("tbody tr").filter(has_text=PRODUCT)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("3")
    expect(row.locator("td").nth(3)).to_have_text("Active")
    expect(shop.get_by_label(f"New quantity of {PRODUCT}")).to_have_value("3")
    expect(header.get_by_role("link", name="Your account")).to_be_visible()
    screenshot(shop, "account")

    with app.app_context():
        tenant_org = db.session.scalar(select(Storefront.organization_id))
        subs = db.session.scalars(Subscription.in_org(tenant_org)).all()
        assert [(s.product.name, s.quantity, s.status) for s in subs] == [(PRODUCT, 3, "Active")]
