"""The Basic and Premium playbooks: items tick themselves from the data, the tenant ticks the
others (who and when kept), and the distributor's list shows each tenant's progress with a
fixed number of queries."""

from __future__ import annotations

from html import unescape

from sqlalchemy import event, select

from tests.conftest import Auth, csrf_from
from tests.helpers import GOOD_PASSWORD, submit_creation
from webapp.extensions import db
from webapp.models import Organization, PlaybookTick, Storefront, TenantReseller, User, utcnow


def make(app, auth, client, run_jobs, account, **overrides) -> TenantReseller:
    assert submit_creation(client, app, account=account, **overrides).status_code == 303
    run_jobs()
    with app.app_context():
        return db.session.scalar(
            select(TenantReseller).where(
                TenantReseller.tenant_organization_id.in_(
                    select(Organization.id).where(Organization.name == account)
                )
            )
        ).id


def tenant_browser(app, tenant_id):
    browser = app.test_client()
    with app.app_context():
        org_id = db.session.get(TenantReseller, tenant_id).tenant_organization_id
        client_id = db.session.get(Organization, org_id).client_id
    assert (
        Auth(browser)
        .login(client_id=client_id, username="nwadmin", password=GOOD_PASSWORD)
        .status_code
        == 302
    )
    return browser


def test_premium_items_tick_from_data_and_by_hand(app, demo, auth, client, run_jobs):
    """A new Premium tenant: "prices" ticks itself (its storefront sells its catalogue);
    branding ticks itself once branded; the tenant marks "first customer" done by hand,
    which records who and when; the distributor's page shows the same playbook."""
    auth.login()
    tenant_id = make(app, auth, client, run_jobs, "Northwind Cloud")
    page = unescape(client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True))
    assert "Premium playbook" in page and "1 of 8 done" in page
    assert "Custom domain" in page and "Extra users" in page

    with app.app_context():
        org_id = db.session.get(TenantReseller, tenant_id).tenant_organization_id
        db.session.scalar(Storefront.in_org(org_id)).branded_at = utcnow()
        db.session.commit()
    browser = tenant_browser(app, tenant_id)
    dashboard = browser.get("/").get_data(as_text=True)
    assert "2 of 8 done" in dashboard and "Mark done" in dashboard
    ticked = browser.post(
        "/playbook/first_customer", data={"csrf_token": csrf_from(dashboard), "done": "1"}
    )
    assert ticked.status_code == 303
    dashboard = browser.get("/").get_data(as_text=True)
    assert "3 of 8 done" in dashboard and "ticked by nwadmin" in dashboard
    with app.app_context():
        tick = db.session.scalar(select(PlaybookTick))
        assert tick.item == "first_customer" and tick.organization_id == org_id
        assert db.session.get(User, tick.ticked_by_id).username == "nwadmin"
    page = unescape(client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True))
    assert "3 of 8 done" in page and "ticked by nwadmin" in page
    assert "Mark done" not in page  # the distributor sees, the tenant ticks


def test_basic_has_five_items_and_unknown_items_are_refused(app, demo, auth, client, run_jobs):
    """The Basic playbook has no Premium items; ticking an unknown item is a 404."""
    auth.login()
    tenant_id = make(app, auth, client, run_jobs, "Northwind Cloud", edition="Basic")
    browser = tenant_browser(app, tenant_id)
    dashboard = browser.get("/").get_data(as_text=True)
    assert "Basic playbook" in dashboard and "of 5 done" in dashboard
    assert "Custom domain" not in dashboard
    bad = browser.post("/playbook/nope", data={"csrf_token": csrf_from(dashboard), "done": "1"})
    assert bad.status_code == 404


def test_the_list_shows_progress_with_a_fixed_number_of_queries(app, demo, auth, client, run_jobs):
    """The Tenant Resellers list shows n/total per tenant, and two tenants cost the list no
    more queries than one."""
    auth.login()
    make(app, auth, client, run_jobs, "Northwind Cloud")

    def count_queries() -> tuple[int, str]:
        seen = []
        with app.app_context():
            engine = db.engine

        def on_execute(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            html = client.get("/tenant-resellers").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
        return len(seen), html

    one, html = count_queries()
    assert "1/8" in html and "playbook items done" in html
    make(app, auth, client, run_jobs, "Contoso Lite", price_list_name="Partner USD")
    two, html = count_queries()
    assert html.count("playbook items done") == 2
    assert two == one
