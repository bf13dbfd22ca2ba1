"""Create a Tenant Reseller in Chromium with a real RQ worker, then sign in as the tenant."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from babel.numbers import format_currency
from playwright.sync_api import expect
from sqlalchemy import select

from tests.helpers import GOOD_PASSWORD, price_list_id
from webapp.extensions import db
from webapp.models import PriceListItem, Product

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PRODUCT = "Microsoft 365 Business Basic"


def _partner_eur_retail_price(app, product_name: str):
    with app.app_context():
        return db.session.scalar(
            select(PriceListItem.retail_price)
            .join(Product, Product.id == PriceListItem.product_id)
            .where(
                PriceListItem.price_list_id == price_list_id(app, "Partner EUR"),
                Product.name == product_name,
            )
        )


def test_create_tenant_reseller_in_the_browser_and_sign_in_as_it(
    app, demo, live_server, worker_process, browser_page, sign_in, screenshot
):
    """The whole creation flow works in a real browser: the form saves, the process page
    follows the worker live through htmx polling until the reseller is ready, polling then
    stops, and the new tenant's administrator signs in and sees the copied catalogue in EUR."""
    page = browser_page
    sign_in()

    page.goto(f"{live_server}/accounts/")
    page.get_by_role("link", name="Northwind Cloud", exact=True).click()
    page.locator("#readiness").get_by_role("link", name="Create a Tenant Reseller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a Tenant Reseller")

    # The form preselects the readiness panel's chosen list (the first ready one by name,
    # "Microsoft only EUR"); the whole catalogue is in Partner EUR, so choose it.
    price_list = page.get_by_label("Price List")
    partner = price_list.locator("option", has_text="Partner EUR")
    expect(partner).to_have_count(1)
    price_list.select_option(partner.get_attribute("value"))
    expect(price_list.locator("option:checked")).to_contain_text("Partner EUR (EUR, 64 products)")
    page.get_by_label("Language").select_option("de")
    timezone = page.get_by_label("Time Zone")
    timezone.fill("")  # it starts with the distributor's own time zone
    timezone.press_sequentially("Europe/Berlin")
    expect(timezone).to_have_value("Europe/Berlin")
    page.get_by_label("Date Format").select_option("dd.MM.yyyy")
    page.get_by_role("radio", name="Premium").check()
    page.get_by_label("Username").fill("nwadmin")
    page.get_by_label("Email").fill("admin@northwind.example")
    page.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_label("Password again").fill(GOOD_PASSWORD)
    screenshot(page, "form")
    # Pause the worker so the process page opens while the process is still Queued: the
    # page must then follow the worker by polling, whatever the machine's speed.
    os.killpg(worker_process.pid, signal.SIGSTOP)
    try:
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()

        assert page.url.endswith("/tenant-resellers/processes"), page.locator("main").inner_text()
        expect(
            page.get_by_role("navigation", name="Tenant Resellers").get_by_role(
                "link", name="Processes"
            )
        ).to_have_attribute("aria-current", "page")
        screenshot(page, "processes")
        page.locator("table tbody tr").first.get_by_role("link").click()
        status = page.locator("#process-status")
        expect(status.locator(".process-summary .badge")).to_have_text("Queued")
        expect(status).to_have_attribute("hx-trigger", "every 1s")
        # A reload would lose this marker: the page must follow the process by polling only.
        page.evaluate("window.__noReload = 'still here'")
        url_before = page.url
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if "/status" in r.url else None)
    finally:
        os.killpg(worker_process.pid, signal.SIGCONT)

    ready = page.get_by_role("heading", name="The reseller is ready!")
    expect(ready).to_be_visible(timeout=60_000)
    assert polls, "the page showed completion without polling"
    assert page.evaluate("window.__noReload") == "still here"
    assert page.url == url_before
    screenshot(page, "process-completed")

    tasks = page.locator("table.tasks tbody tr")
    expect(tasks).to_have_count(8)
    for row in tasks.all():
        expect(row.locator("td .badge")).to_have_text("Completed")

    assert status.get_attribute("hx-trigger") is None
    polls_at_completion = len(polls)
    time.sleep(2.5)  # more than two polling intervals
    assert len(polls) == polls_at_completion, f"still polling after completion: {polls}"

    client_id = page.locator(".completed code.client-id").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", client_id), client_id

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(
        client_id=client_id.lower().replace("-", ""), username="nwadmin", password=GOOD_PASSWORD
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Cloud")
    screenshot(page, "tenant-dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(page.get_by_role("status").filter(has_text="products")).to_have_text("64 products")
    name_cell = page.locator(
        "td:first-child",
        has_text=re.compile(rf"^{re.escape(PRODUCT)}(\s+managed by distributor)?$"),
    )
    row = page.locator("tbody tr").filter(has=name_cell)
    expect(row).to_have_count(1)
    expected = format_currency(_partner_eur_retail_price(app, PRODUCT), "EUR", locale="de")
    assert "€" in expected
    expect(row.locator("td.num")).to_have_text(expected)
    screenshot(page, "tenant-products")
