"""The dashboards and the main pages in Chromium: no accessibility blocker, no console error
(CSP, 404, script), a one-line navigation at 1,366 px with a notification badge."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import GOOD_PASSWORD

pytestmark = pytest.mark.browser

DISTRIBUTOR_PAGES = [
    "/",
    "/accounts/",
    "/price-lists",
    "/products",
    "/tenant-resellers",
    "/processes/",
    "/orders",
    "/subscriptions",
    "/invoices/",
    "/users",
    "/notifications/",
    "/account",
    "/account/two-factor",
    "/settings/api-tokens",
    "/admin/queue-health",
]
TENANT_PAGES = [
    "/",
    "/products",
    "/price-lists",
    "/accounts/",
    "/users",
    "/branding",
    "/orders",
    "/subscriptions",
    "/processes/",
    "/notifications/",
    "/account",
    "/account/two-factor",
]


def _unread_notifications(app, username: str, count: int) -> None:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Notification, User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for i in range(count):
            db.session.add(
                Notification(
                    organization_id=user.organization_id, user_id=user.id, message=f"Note {i}"
                )
            )
        db.session.commit()


def _failed_process(app, demo) -> None:
    from webapp.extensions import db
    from webapp.models import Process

    with app.app_context():
        db.session.add(
            Process(organization_id=demo, name="Broken process", status="Failed", message="boom")
        )
        db.session.commit()


def _open_tables(page) -> None:
    """Open every chart's table so that axe checks it too."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")


def test_both_dashboards_have_no_serious_accessibility_violation(
    app, demo, northwind_tenant, live_server, browser_page, sign_in, axe_audit
):
    """The distributor's home (a tenant, its creation timings, a failed process) and the
    tenant's home, charts and their tables open: zero serious or critical axe findings."""
    _failed_process(app, demo)
    page = browser_page
    sign_in()
    page.goto(f"{live_server}/")
    assert page.locator("svg.chart-svg title").count() >= 2
    assert page.get_by_role("link", name="Broken process").count() == 1
    _open_tables(page)
    found = axe_audit(page, "distributor-dashboard")
    page.context.clear_cookies()
    sign_in(client_id=northwind_tenant.client_id, username="nwadmin", password=GOOD_PASSWORD)
    page.goto(f"{live_server}/")
    assert page.get_by_role("heading", name="Your sales").count() == 1
    _open_tables(page)
    found += axe_audit(page, "tenant-dashboard")
    assert not found, "serious/critical axe violations:\n" + "\n".join(found)


def _console_errors(page, live_server, paths) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    for path in paths:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    return errors


def test_main_pages_of_each_role_have_no_console_error(
    app, demo, northwind_tenant, live_server, browser_page, sign_in
):
    """Distributor admin and tenant admin visit their main pages: no CSP report, no 404
    (the favicon included), no script error in the console."""
    page = browser_page
    sign_in()
    errors = _console_errors(page, live_server, DISTRIBUTOR_PAGES)
    page.context.clear_cookies()
    sign_in(client_id=northwind_tenant.client_id, username="nwadmin", password=GOOD_PASSWORD)
    errors += _console_errors(page, live_server, TENANT_PAGES)
    assert not errors, "\n".join(errors)


def test_favicon_is_served(live_server, browser_page):
    """/favicon.ico answers 200 with an icon, signed in or not."""
    response = browser_page.request.get(f"{live_server}/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}])
def test_navigation_stays_on_one_line_at_1366_with_a_badge(
    app, demo, live_server, browser_page, sign_in, viewport
):
    """With 12 unread notifications, the distributor admin's header is one line: every menu
    item, the badge and Sign out share one row."""
    _unread_notifications(app, "admin", 12)
    page = browser_page
    sign_in()
    page.goto(f"{live_server}/accounts/")
    assert page.locator(".badge-count").inner_text().startswith("12")
    middles = page.evaluate(
        """() => [...document.querySelectorAll(
                '.site-header nav li, .signout > a, .signout button')]
            .map(e => e.getBoundingClientRect())
            .map(r => Math.round(r.top + r.height / 2))"""
    )
    assert max(middles) - min(middles) <= 4, middles  # one row: the same vertical middle
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= 1366


def test_branding_preview_requests_in_a_row_log_no_error(
    app, demo, northwind_tenant, live_server, browser_page, sign_in
):
    """Changes faster than the preview answers (three in a row) end with the last one
    previewed and no htmx:sendAbort error in the console."""
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(client_id=northwind_tenant.client_id, username="nwadmin", password=GOOD_PASSWORD)
    page.goto(f"{live_server}/branding")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: r.url.endswith("/preview") or "preview" in r.url):
        page.evaluate(
            """() => {
                const form = document.querySelector('form.branding-form');
                const name = form.querySelector('input[name=brand_name]');
                for (const text of ['One', 'Two', 'Three Shop']) {
                    name.value = text;
                    form.dispatchEvent(new Event('change', {bubbles: true}));
                }
            }"""
        )
    expect(page.locator("#brand-preview-body")).to_contain_text("Three Shop", timeout=10_000)
    page.wait_for_load_state("networkidle")
    assert not errors, errors


def test_save_separate_invoices_keeps_its_distance_from_the_next_heading(
    app, demo, northwind_tenant, live_server, browser_page, sign_in
):
    """On the tenant reseller page, at least 16 px between the Save Separate Invoices button
    and the Creation heading below it."""
    page = browser_page
    sign_in()
    page.goto(f"{live_server}/tenant-resellers/{northwind_tenant.tenant_id}")
    button = page.get_by_role("button", name="Save Separate Invoices").bounding_box()
    heading = page.get_by_role("heading", name="Creation", exact=True).bounding_box()
    assert heading["y"] - (button["y"] + button["height"]) >= 16
