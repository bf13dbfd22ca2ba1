"""The account list and the readiness panel in Chromium: sign-in, checks, htmx updates."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DEMO_ACCOUNTS = ["Northwind Cloud", "Fabrikam Ltd", "Tailspin IT", "Contoso Lite", "Litware Inc"]


def open_account(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_readiness_panel_and_enable_ordering_in_place(
    demo, live_server, browser_page, sign_in, screenshot
):
    """A distributor signs in, sees the demo accounts and each one's readiness, and enabling
    ordering updates the panel in place through htmx without reloading the page."""
    page = browser_page
    sign_in()
    screenshot(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(len(DEMO_ACCOUNTS))
    for name in DEMO_ACCOUNTS:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_text("5 accounts")).to_be_visible()
    screenshot(page, "accounts")

    page.get_by_role("link", name="Northwind Cloud", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Cloud")
    readiness = page.locator("#readiness")
    expect(readiness.locator(".summary")).to_contain_text("Ready to become a tenant reseller")
    create = readiness.get_by_role("link", name="Create a Tenant Reseller")
    expect(create).to_be_visible()
    expect(create).to_be_enabled()
    assert "/tenant-reseller/new" in (create.get_attribute("href") or "")
    screenshot(page, "northwind")

    open_account(page, "Fabrikam Ltd")
    readiness = page.locator("#readiness")
    expect(readiness.locator(".summary")).to_contain_text(
        "Not ready to become a tenant reseller yet."
    )
    expect(readiness.locator("li.fail")).to_contain_text(
        ["The account is not enabled for ordering."]
    )
    disabled = readiness.get_by_role("button", name="Create a Tenant Reseller")
    expect(disabled).to_be_disabled()
    expect(readiness.get_by_role("link", name="Create a Tenant Reseller")).to_have_count(0)
    screenshot(page, "fabrikam-before")

    # A reload would lose this marker: it proves htmx swapped the panel in place.
    page.evaluate("window.__noReload = 'still here'")
    url_before = page.url
    with page.expect_response(lambda r: r.url.endswith("/ordering") and r.status == 200) as info:
        page.get_by_role("button", name="Enable ordering").click()
    assert info.value.request.headers.get("hx-request") == "true"

    expect(page.get_by_role("button", name="Disable ordering")).to_be_visible()
    readiness = page.locator("#readiness")
    expect(readiness).to_contain_text("The account is enabled for ordering.")
    expect(readiness).not_to_contain_text("The account is not enabled for ordering.")
    expect(readiness.locator("li.pass")).to_contain_text(["The account is enabled for ordering."])
    assert page.evaluate("window.__noReload") == "still here"
    assert page.url == url_before
    screenshot(page, "fabrikam-after")


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_account_view_fits_a_phone_screen(demo, live_server, browser_page, sign_in, screenshot):
    """On a 390 px wide phone the account view needs no horizontal scrolling of the page."""
    page = browser_page
    sign_in()
    page.goto(f"{live_server}/accounts/")
    page.get_by_role("link", name="Northwind Cloud", exact=True).click()
    expect(page.locator("#readiness")).to_be_visible()
    screenshot(page, "northwind-phone")
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width + 1, f"body scrolls sideways: {scroll_width} > {inner_width}"
