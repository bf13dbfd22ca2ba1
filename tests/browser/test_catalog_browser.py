"""The distributor's price lists in Chromium: the readiness panel's fix link leads to a new
price list in the account's currency, and the panel turns ready once it exists."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_usd_price_list_from_the_readiness_fix_link_makes_contoso_ready(
    demo, live_server, browser_page, sign_in, screenshot
):
    """With Partner USD deactivated, Contoso Lite (billed in USD) is not ready; the fix link
    opens the new price list form with USD chosen; a copy of Partner EUR at 1.08 makes the
    panel ready with the new list."""
    page = browser_page
    sign_in()
    nav = page.get_by_role("navigation", name="Main")
    page.goto(f"{live_server}/price-lists")
    page.get_by_role("link", name="Partner USD", exact=True).click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Partner USD is inactive.")).to_be_visible()

    nav.get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Contoso Lite", exact=True).click()
    readiness = page.locator("#readiness")
    expect(readiness.locator(".summary")).to_contain_text(
        "Not ready to become a tenant reseller yet."
    )
    screenshot(page, "contoso-not-ready")
    readiness.get_by_role("link", name="Create a new price list in USD").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("New price list")
    expect(page.get_by_label("Currency")).to_have_value("USD")
    expect(page.get_by_label("Name")).to_have_value("Contoso Lite USD")
    page.get_by_label("Copy the prices of").select_option(label="Partner EUR (EUR)")
    page.get_by_label("Exchange rate").fill("1.08")
    page.get_by_label("Ending in .99").check()
    screenshot(page, "new-usd-list")
    page.get_by_role("button", name="Create price list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contoso Lite USD")
    expect(page.get_by_text("USD · Active · 64 products")).to_be_visible()

    nav.get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Contoso Lite", exact=True).click()
    readiness = page.locator("#readiness")
    expect(readiness.locator(".summary")).to_contain_text(
        "Ready to become a tenant reseller with Contoso Lite USD."
    )
    expect(readiness.get_by_role("link", name="Create a Tenant Reseller")).to_be_visible()
    screenshot(page, "contoso-ready")
