"""Accounts and sign-in pages in Chromium: forgot password to a new password, two-factor
set-up and sign-in, user administration and the storefront's password pages, each checked
by axe-core (no serious or critical violation), at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.mailbox import emails_to, link_in
from webapp.services.two_factor import current_code

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet-harbour-lantern"


def _report(found: list[str]) -> str:
    return "serious/critical axe violations:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 375, "height": 740}],
    ids=["desktop", "phone"],
)
def test_forgot_password_to_a_new_password(app, demo, live_server, browser_page, axe_audit):
    """From the sign-in page's link to the emailed reset link and back to sign-in, with the
    keyboard and labels only; every page passes axe."""
    page = browser_page
    found: list[str] = []
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    found += axe_audit(page, "forgot-password")
    page.get_by_label("Client ID").fill("DEMO")
    page.get_by_label("Username or email").fill("admin")
    page.get_by_label("Username or email").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("If that account exists")
    path = link_in(emails_to(app, "admin@demo.example")[0].body, "/reset-password/")
    page.goto(f"{live_server}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    found += axe_audit(page, "reset-password")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator("#password-error")).to_be_visible()
    found += axe_audit(page, "reset-password-error")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    page.get_by_label("Client ID").fill("DEMO")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("how things are going")
    assert not found, _report(found)


def test_two_factor_set_up_and_sign_in(app, demo, live_server, browser_page, sign_in, axe_audit):
    """Your account → set up two-factor (QR code with a text alternative, the key to type),
    the recovery codes, then signing in again asks for the app's code."""
    page = browser_page
    found: list[str] = []
    sign_in()
    page.get_by_role("link", name="Your account: admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    found += axe_audit(page, "your-account")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    found += axe_audit(page, "two-factor-setup")
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(current_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    found += axe_audit(page, "recovery-codes")
    code = page.locator("#recovery-codes li").first.inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Client ID").fill("DEMO")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    found += axe_audit(page, "two-factor-sign-in")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("how things are going")
    assert not found, _report(found)


def test_user_administration_pages(app, demo, live_server, browser_page, sign_in, axe_audit):
    """Users (invite a user), a user's page (disable) and the security settings pass axe."""
    page = browser_page
    found: list[str] = []
    sign_in()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    found += axe_audit(page, "users")
    page.get_by_label("Username").fill("helpdesk")
    page.get_by_label("Email", exact=True).fill("helpdesk@demo.example")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("helpdesk is invited")
    page.get_by_role("link", name="Edit helpdesk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("helpdesk")
    found += axe_audit(page, "user-edit")
    page.get_by_role("button", name="Disable helpdesk").click()
    expect(page.get_by_role("status")).to_contain_text("helpdesk is disabled")
    page.goto(f"{live_server}/settings/security")
    expect(page.get_by_role("heading", level=1)).to_have_text("Security settings")
    found += axe_audit(page, "security-settings")
    path = link_in(emails_to(app, "helpdesk@demo.example")[0].body, "/invitation/")
    page.goto(f"{live_server}{path}")
    found += axe_audit(page, "invitation-disabled-user")
    assert not found, _report(found)


def test_storefront_password_pages(northwind_tenant, app, live_server, new_page, axe_audit):
    """A storefront customer signs up, changes the password, signs out, and resets it from
    the emailed link; every page passes axe in the store's brand."""
    store = f"{live_server}/store/{northwind_tenant.slug}"
    shop = new_page()
    found: list[str] = []
    shop.goto(f"{store}/signup")
    shop.get_by_label("Company or your name").fill("Alice")
    shop.get_by_label("Email").fill("alice@example.com")
    shop.get_by_label("Password", exact=True).fill("alice-password-123")
    shop.get_by_label("Password again").fill("alice-password-123")
    shop.get_by_role("button", name=re.compile("Create|Sign up")).click()
    shop.get_by_role("link", name="Change your password").click()
    expect(shop.get_by_role("heading", level=1)).to_have_text("Change your password")
    found += axe_audit(shop, "store-change-password")
    shop.get_by_label("Current password").fill("alice-password-123")
    shop.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    shop.get_by_label("New password again").fill(NEW_PASSWORD)
    shop.get_by_role("button", name="Change password").click()
    expect(shop.get_by_role("status")).to_contain_text("Your password is changed")
    shop.get_by_role("button", name="Sign out").click()
    shop.goto(f"{store}/login")
    found += axe_audit(shop, "store-sign-in")
    shop.get_by_role("link", name="Forgot your password?").click()
    found += axe_audit(shop, "store-forgot-password")
    shop.get_by_label("Email").fill("alice@example.com")
    shop.get_by_role("button", name="Send the link").click()
    expect(shop.get_by_role("status")).to_contain_text("If alice@example.com belongs")
    path = link_in(emails_to(app, "alice@example.com")[0].body, "/reset-password/")
    shop.goto(f"{live_server}{path}")
    found += axe_audit(shop, "store-reset-password")
    assert not found, _report(found)
