"""Activate Back Ordering in Chromium: the tab, the irreversible confirmation, the result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import AuditLog, TenantReseller

pytestmark = pytest.mark.browser

CONFIRM_LABEL = "I understand that Back Ordering cannot be deactivated."
NOT_TICKED = "Tick the box to confirm: activation cannot be undone."


def _active(app, tenant_id: int) -> bool:
    with app.app_context():
        return db.session.get(TenantReseller, tenant_id).back_ordering_active


def _activations(app) -> int:
    with app.app_context():
        return (
            db.session.query(AuditLog)
            .filter_by(action="tenant_reseller.back_ordering_activated")
            .count()
        )


def test_activate_back_ordering_with_its_confirmation(
    app, northwind_tenant, live_server, browser_page, sign_in, screenshot, worker_process
):
    """A distributor admin opens the reseller's Back Ordering tab, is stopped until the
    irreversible step is confirmed, then activates it and What's next ticks it off."""
    page = browser_page
    tenant_id = northwind_tenant.tenant_id
    sign_in()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenant Resellers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tenant Resellers")
    row = page.locator("tbody tr").filter(has_text="Northwind Cloud")
    expect(row).to_have_count(1)
    row.locator("td").first.get_by_role("link", name="Northwind Cloud").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northwind Cloud")

    tabs = page.get_by_role("navigation", name="Northwind Cloud")
    tabs.get_by_role("link", name="Back Ordering").click()
    expect(tabs.get_by_role("link", name="Back Ordering")).to_have_attribute("aria-current", "page")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Back Ordering"))
    expect(card.locator(".badge")).to_have_text("Not active")
    screenshot(page, "tab-before")

    card.get_by_role("link", name="Activate Back Ordering").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Back Ordering")
    expect(page.get_by_text("Activation cannot be undone.")).to_be_visible()
    confirm = page.get_by_label(CONFIRM_LABEL)
    expect(confirm).not_to_be_checked()
    activate = page.get_by_role("button", name="Activate Back Ordering")
    confirm_url = page.url
    assert confirm_url.endswith(f"/tenant-resellers/{tenant_id}/back-ordering/activate")
    screenshot(page, "confirm")

    # Chromium itself refuses to submit while the required box is unticked ...
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    activate.click()
    assert confirm.evaluate("box => box.validity.valueMissing") is True
    page.wait_for_timeout(300)
    assert posts == [] and page.url == confirm_url

    # ... and the server refuses too when the browser does not validate (400, a message).
    page.locator("form", has=activate).evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation() as navigation:
        activate.click()
    assert navigation.value.status == 400
    expect(page.get_by_role("alert").filter(has_text=NOT_TICKED)).to_be_visible()
    expect(page.get_by_label(CONFIRM_LABEL)).not_to_be_checked()
    assert not _active(app, tenant_id)
    assert _activations(app) == 0
    screenshot(page, "not-ticked")

    page.get_by_label(CONFIRM_LABEL).check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Activate Back Ordering").click()
    assert navigation.value.status == 200
    # Activation is a queued process: the page follows it until a real worker completes it.
    assert "/processes/" in page.url
    expect(page.locator("#process-status .process-summary .badge")).to_have_text(
        "Completed", timeout=60_000
    )
    screenshot(page, "activation-completed")
    page.goto(f"{live_server}/tenant-resellers/{tenant_id}/back-ordering")
    assert page.url.endswith(f"/tenant-resellers/{tenant_id}/back-ordering")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Back Ordering"))
    expect(card.locator(".badge")).to_have_text("Active")
    expect(card).to_contain_text(re.compile(r"Active\s+since"))
    expect(page.get_by_role("link", name="Activate Back Ordering")).to_have_count(0)
    expect(page.get_by_role("button", name="Activate Back Ordering")).to_have_count(0)
    assert _active(app, tenant_id)
    assert _activations(app) == 1
    screenshot(page, "tab-active")

    page.get_by_role("navigation", name="Northwind Cloud").get_by_role(
        "link", name="Basic Information"
    ).click()
    whats_next = page.locator("section.card", has=page.get_by_role("heading", name="What's next"))
    expect(whats_next).to_be_visible()
    step = whats_next.locator("li", has_text="Back-ordering activated")
    expect(step).to_have_count(1)
    expect(step).to_have_class("pass")
    expect(step.locator(".mark")).to_have_text("✓")
    expect(step).to_contain_text("Done:")
    # Nothing else on the list pretends to be done.
    expect(whats_next.locator("li.pass")).to_have_count(1)
    # Once active, What's next no longer links to the Back Ordering tab.
    expect(whats_next.get_by_role("link", name="Back Ordering")).to_have_count(0)
    screenshot(page, "whats-next")
