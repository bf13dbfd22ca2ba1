"""Suspend and reactivate a tenant reseller in Chromium: the confirmation, the branded 503 of
its storefront, and the storefront open again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import TenantReseller

pytestmark = pytest.mark.browser


def _status(app, tenant_id: int) -> str:
    with app.app_context():
        return db.session.get(TenantReseller, tenant_id).status


def test_suspend_shows_the_branded_503_and_reactivate_reopens_the_store(
    app, northwind_tenant, live_server, browser_page, new_page, sign_in, screenshot
):
    """The distributor suspends Northwind from its page (after a confirmation); a visitor of
    its storefront gets the branded "temporarily unavailable" page with status 503; after
    Reactivate the storefront is the shop again."""
    page = browser_page
    tenant_id = northwind_tenant.tenant_id
    store_url = f"{live_server}/store/{northwind_tenant.slug}/"
    sign_in()

    page.goto(f"{live_server}/tenant-resellers?status=Active")
    page.locator("tbody tr").filter(has_text="Northwind Cloud").locator("td").first.get_by_role(
        "link", name="Northwind Cloud"
    ).click()
    card = page.locator("#lifecycle")
    card.get_by_role("link", name="Suspend…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suspend: Northwind Cloud")
    expect(page.get_by_text("Subscriptions keep running")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Suspend the tenant reseller").click()
    expect(page.get_by_text("Northwind Cloud is suspended.")).to_be_visible()
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Suspended")
    assert _status(app, tenant_id) == "Suspended"
    screenshot(page, "suspended")

    visitor = new_page()
    response = visitor.goto(store_url)
    assert response is not None and response.status == 503
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Northwind Cloud is temporarily unavailable"
    )
    primary = visitor.locator(".store-header").evaluate(
        "e => getComputedStyle(document.documentElement).getPropertyValue('--brand-primary')"
    )
    assert primary.strip().startswith("#"), primary  # the brand's stylesheet is served
    screenshot(visitor, "storefront-503")

    page.locator("#lifecycle").get_by_role("link", name="Reactivate…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Reactivate the tenant reseller").click()
    expect(page.get_by_text("Northwind Cloud is active again.")).to_be_visible()
    assert _status(app, tenant_id) == "Active"

    response = visitor.goto(store_url)
    assert response is not None and response.status == 200
    expect(visitor.get_by_text("temporarily unavailable")).to_have_count(0)
    screenshot(visitor, "storefront-open")
