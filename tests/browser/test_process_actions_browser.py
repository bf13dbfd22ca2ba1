"""The process page's staff actions Cancel and Retry in Chromium, with a real RQ worker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.helpers import GOOD_PASSWORD
from webapp.extensions import db
from webapp.models import PriceList

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACCOUNT = "Northwind Cloud"
PRICE_LIST = "Partner EUR"
TASK_COUNT = 8


def _create_tenant_reseller(page, live_server) -> None:
    """Fill and save the creation form for ACCOUNT with PRICE_LIST, like a person does."""
    page.goto(f"{live_server}/accounts/")
    page.get_by_role("link", name=ACCOUNT, exact=True).click()
    page.locator("#readiness").get_by_role("link", name="Create a Tenant Reseller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a Tenant Reseller")

    price_list = page.get_by_label("Price List")
    option = price_list.locator("option", has_text=PRICE_LIST)
    expect(option).to_have_count(1)
    price_list.select_option(option.get_attribute("value"))
    expect(price_list.locator("option:checked")).to_contain_text(PRICE_LIST)
    admin = page.locator("fieldset", has=page.locator("legend", has_text="Administrator Account"))
    admin.get_by_label("Username").fill("nwadmin")
    admin.get_by_label("Email").fill("admin@northwind.example")
    admin.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
    admin.get_by_label("Password again").fill(GOOD_PASSWORD)
    assert len(GOOD_PASSWORD) >= 12
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.url.endswith("/tenant-resellers/processes"), page.locator("main").inner_text()
    expect(page.locator(".flashes")).to_contain_text(f"Creation of {ACCOUNT} queued")


def _open_the_process(page) -> None:
    """Tenant Resellers › Processes › the newest process."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenant Resellers").click()
    page.get_by_role("navigation", name="Tenant Resellers").get_by_role(
        "link", name="Processes"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tenant Resellers")
    page.locator("table tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ACCOUNT)


def _set_price_list_active(app, active: bool) -> None:
    with app.app_context():
        price_list = db.session.scalar(select(PriceList).where(PriceList.name == PRICE_LIST))
        price_list.active = active
        db.session.commit()


def _expect_every_task(page, status: str, timeout: float = 15_000) -> None:
    tasks = page.locator("table.tasks tbody tr")
    expect(tasks).to_have_count(TASK_COUNT)
    for row in tasks.all():
        expect(row.locator("td .badge")).to_have_text(status, timeout=timeout)


def test_cancel_a_queued_process_then_clean_up(
    app, demo, live_server, browser_page, sign_in, screenshot
):
    """Cancel on a Queued process skips every task, and Clean up makes the account ready again."""
    page = browser_page
    sign_in()
    _create_tenant_reseller(page, live_server)  # no worker runs: the process stays Queued
    _open_the_process(page)

    status = page.locator("#process-status")
    expect(status.locator(".process-summary .badge")).to_have_text("Queued")
    cancel = status.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_visible()
    expect(status.get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    screenshot(page, "queued")

    with page.expect_navigation():
        cancel.click()
    expect(page.locator(".flashes")).to_contain_text("cancelled before it started")
    status = page.locator("#process-status")
    expect(status.locator(".process-summary .badge")).to_have_text("Cancelled")
    _expect_every_task(page, "Skipped")
    expect(status.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    expect(status.get_by_role("button", name="Clean up", exact=True)).to_be_visible()
    expect(status.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    screenshot(page, "cancelled")

    with page.expect_navigation():
        status.get_by_role("button", name="Clean up", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Cleaned up")
    expect(page.locator("#process-status").get_by_role("button")).to_have_count(0)
    screenshot(page, "cleaned-up")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name=ACCOUNT, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ACCOUNT)
    readiness = page.locator("#readiness")
    expect(readiness.locator(".summary")).to_contain_text("Ready to become a tenant reseller")
    create = readiness.get_by_role("link", name="Create a Tenant Reseller")
    expect(create).to_be_visible()
    expect(create).to_be_enabled()
    expect(readiness.get_by_role("button", name="Create a Tenant Reseller")).to_have_count(0)
    screenshot(page, "account-ready-again")


def test_retry_a_process_that_failed_for_a_real_reason(
    app, demo, live_server, browser_page, sign_in, screenshot, start_worker
):
    """A process that failed because its price list was deactivated completes after Retry."""
    page = browser_page
    sign_in()
    _create_tenant_reseller(page, live_server)  # no worker runs yet: the process stays Queued
    _open_the_process(page)
    status = page.locator("#process-status")
    expect(status.locator(".process-summary .badge")).to_have_text("Queued")

    _set_price_list_active(app, False)
    start_worker()

    failed = status.get_by_text("The process failed.")
    expect(failed).to_be_visible(timeout=60_000)  # the page polls; no reload
    expect(status.locator(".process-summary .badge")).to_have_text("Failed")
    first_task = page.locator("table.tasks tbody tr").first
    expect(first_task.locator("td .badge")).to_have_text("Failed")
    expect(first_task.locator("td").last).to_contain_text("it is not active")
    expect(status.get_by_role("button", name="Retry", exact=True)).to_be_visible()
    expect(status.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    screenshot(page, "failed")

    _set_price_list_active(app, True)
    with page.expect_navigation():
        status.get_by_role("button", name="Retry", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Retry queued")
    # A reload would lose this marker: the page must follow the retry by polling only.
    page.evaluate("window.__noReload = 'still here'")
    url_before = page.url
    screenshot(page, "retry-queued")

    ready = page.get_by_role("heading", name="The reseller is ready!")
    expect(ready).to_be_visible(timeout=60_000)
    assert page.evaluate("window.__noReload") == "still here"
    assert page.url == url_before
    _expect_every_task(page, "Completed")
    screenshot(page, "completed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenant Resellers").click()
    page.get_by_role("link", name=ACCOUNT, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ACCOUNT)
    page.get_by_role("navigation", name=ACCOUNT).get_by_role("link", name="Logs").click()
    logs = page.locator("table tbody tr")
    retry_row = logs.filter(has_text="Retry requested by admin")
    expect(retry_row).to_have_count(1)
    expect(retry_row.locator("td").nth(2)).to_have_text("process.retry")
    screenshot(page, "logs")
