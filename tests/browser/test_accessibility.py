"""axe-core in Chromium: the main pages have no serious or critical accessibility violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.helpers import GOOD_PASSWORD, creation_url

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


@pytest.fixture
def audit(screenshot):
    """audit(page, "what") runs axe-core on the page as it is now and returns the serious and
    critical violations, one line each: page, rule id, impact, help and target selectors."""
    axe = Axe()

    def run(page, what: str) -> list[str]:
        page.wait_for_load_state("load")
        screenshot(page, f"axe-{what}")
        results = axe.run(page)
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
        found = []
        for violation in results.response["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            targets = "; ".join(
                " >> ".join(str(part) for part in node["target"]) for node in violation["nodes"]
            )
            found.append(
                f"{what} ({page.url}): {violation['id']} [{violation['impact']}] "
                f"{violation['help']} -> {targets}"
            )
        return found

    return run


def _report(found: list[str]) -> str:
    return "serious/critical axe violations:\n" + "\n".join(found)


def test_the_audit_finds_a_known_violation(live_server, browser_page, audit):
    """An image without alternative text and an unlabelled field, put on the sign-in page,
    are reported with their rule, impact and target: the audit is not blind."""
    page = browser_page
    page.goto(f"{live_server}/login")
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const img = document.createElement('img');
            img.id = 'no-alt';
            img.src = '/static/missing.png';
            const input = document.createElement('input');
            input.id = 'no-label';
            main.append(img, input);
        }"""
    )
    found = audit(page, "known-violation")
    assert any("image-alt [critical]" in line and "#no-alt" in line for line in found), found
    assert any("label [critical]" in line and "#no-label" in line for line in found), found


def test_distributor_pages_are_accessible(app, demo, live_server, browser_page, sign_in, audit):
    """Sign-in, the account list, Northwind Cloud's account view and its creation form have
    no serious or critical axe-core violation."""
    page = browser_page
    found: list[str] = []

    page.goto(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    found += audit(page, "sign-in")

    sign_in()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    expect(page.locator("#results tbody tr").first).to_be_visible()
    found += audit(page, "accounts")

    page.get_by_role("link", name="Northwind Cloud", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Cloud")
    expect(page.locator("#readiness")).to_contain_text("Ready to become a tenant reseller")
    found += audit(page, "account-view")

    page.locator("#readiness").get_by_role("link", name="Create a Tenant Reseller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a Tenant Reseller")
    assert page.url.endswith(creation_url(app))
    found += audit(page, "creation-form")

    assert not found, _report(found)


def test_pages_after_a_creation_are_accessible(
    northwind_tenant, live_server, browser_page, new_page, sign_in, audit
):
    """After a creation ran, its process page, the tenant's products page and the tenant's
    storefront home have no serious or critical axe-core violation."""
    page = browser_page
    found: list[str] = []

    sign_in()
    page.goto(f"{live_server}/processes/{northwind_tenant.process_id}")
    expect(page.get_by_role("heading", name="The reseller is ready!")).to_be_visible()
    expect(page.locator("table.tasks tbody tr")).to_have_count(8)
    found += audit(page, "process")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(client_id=northwind_tenant.client_id, username="nwadmin", password=GOOD_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(page.locator("tbody tr").first).to_be_visible()
    found += audit(page, "tenant-products")

    shop = new_page()
    shop.goto(f"{live_server}/store/{northwind_tenant.slug}/")
    expect(shop.get_by_role("heading", level=1)).to_contain_text("Northwind Cloud")
    expect(shop.get_by_role("heading", name="Featured categories")).to_be_visible()
    found += audit(shop, "storefront-home")

    assert not found, _report(found)
