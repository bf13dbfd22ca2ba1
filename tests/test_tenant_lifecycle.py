"""The tenant reseller's lifecycle, done by the distributor on the tenant's page: suspend,
reactivate, change edition, mark as deleted, restore; each with what the tenant's users, its
storefront and its end customers can and cannot do afterwards."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.helpers import GOOD_PASSWORD, submit_creation
from webapp.extensions import db
from webapp.models import (
    AuditLog,
    Organization,
    Storefront,
    Subscription,
    TenantReseller,
    User,
    utcnow,
)
from webapp.services.passwords import hash_password
from webapp.services.tenant_lifecycle import DELETED_SIGN_IN, SUSPENDED_SIGN_IN

NEUTRAL = "This store is not available"


@pytest.fixture
def tenant(app, demo, auth, client, run_jobs) -> dict:
    """Northwind Cloud as an Active Premium tenant; the distributor stays signed in."""
    auth.login()
    assert submit_creation(client, app).status_code == 303
    run_jobs()
    with app.app_context():
        row = db.session.scalar(select(TenantReseller))
        org = db.session.get(Organization, row.tenant_organization_id)
        storefront = db.session.scalar(Storefront.in_org(org.id))
        assert row.status == "Active"
        return {
            "id": row.id,
            "org_id": org.id,
            "client_id": org.client_id,
            "storefront_id": storefront.id,
            "store": f"/store/{storefront.slug}",
            "url": f"/tenant-resellers/{row.id}",
        }


def text(response) -> str:
    """The page as a person reads it (entities such as &#39; decoded)."""
    return unescape(response.get_data(as_text=True))


def act(client, tenant, action, **data):
    """Open the confirmation page like a browser, then confirm."""
    url = f"{tenant['url']}/lifecycle/{action}"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def tenant_login(app, username="nwadmin", password=GOOD_PASSWORD, client_id=None):
    """Sign in as the tenant's user on a browser of its own; returns (client, response)."""
    from tests.conftest import Auth

    browser = app.test_client()
    with app.app_context():
        client_id = client_id or db.session.scalar(
            select(Organization.client_id).where(Organization.name == "Northwind Cloud")
        )
    return browser, Auth(browser).login(client_id=client_id, username=username, password=password)


def shopper_with_subscription(app, tenant) -> tuple:
    """An end customer who signed up on the storefront and bought a subscription."""
    store = tenant["store"]
    shopper = app.test_client()

    def post(url, data=None, form_url=None):
        page = shopper.get(form_url or url, follow_redirects=True).get_data(as_text=True)
        return shopper.post(url, data={"csrf_token": csrf_from(page), **(data or {})})

    signed_up = post(
        f"{store}/signup",
        {
            "name": "Buyer GmbH",
            "email": "buyer@example.com",
            "password": "buyer-password-1",
            "password_again": "buyer-password-1",
        },
    )
    assert signed_up.status_code == 302
    with app.app_context():
        from webapp.models import Product

        product_id = db.session.scalar(
            Product.in_org(tenant["org_id"]).where(Product.name == "Microsoft 365 Business Basic")
        ).id
    assert post(f"{store}/cart/add/{product_id}", {"quantity": "2"}, f"{store}/cart").status_code
    assert post(f"{store}/checkout", form_url=f"{store}/cart").status_code == 303
    with app.app_context():
        sub_id = db.session.scalar(
            select(Subscription.id).where(Subscription.organization_id == tenant["org_id"])
        )
    return shopper, sub_id


def statuses(app, tenant) -> tuple[str, str]:
    with app.app_context():
        row = db.session.get(TenantReseller, tenant["id"])
        return row.status, db.session.get(Organization, tenant["org_id"]).status


def audit_actions(app, tenant) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "tenant_reseller", AuditLog.entity_id == tenant["id"])
            .where(AuditLog.action.like("tenant_reseller.%"))
            .order_by(AuditLog.id)
        ).all()


def test_suspend_closes_sign_in_and_storefront_and_keeps_subscriptions(app, client, tenant):
    """Suspended: the tenant's users are refused with the reason (a signed-in one is signed
    out), the storefront is the branded 503, end customers' subscriptions keep running."""
    shopper, sub_id = shopper_with_subscription(app, tenant)
    signed_in, response = tenant_login(app)
    assert response.status_code == 302

    confirm = client.get(f"{tenant['url']}/lifecycle/suspend").get_data(as_text=True)
    assert "subscriptions keep running" in confirm.lower()
    response = act(client, tenant, "suspend")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Northwind Cloud is suspended." in page and "Reactivate…" in page
    assert statuses(app, tenant) == ("Suspended", "Suspended")
    assert audit_actions(app, tenant)[-1] == "tenant_reseller.suspend"

    # its users: the right password is told why; a wrong one learns nothing
    _, refused = tenant_login(app)
    assert refused.status_code == 403 and SUSPENDED_SIGN_IN in text(refused)
    _, wrong = tenant_login(app, password="not-the-password")
    assert wrong.status_code == 401 and SUSPENDED_SIGN_IN not in text(wrong)
    # the one already signed in is signed out at the next page, with the reason
    ended = text(signed_in.get("/", follow_redirects=True))
    assert SUSPENDED_SIGN_IN in ended

    # the storefront: every page is the branded "temporarily unavailable" page
    for path in ("/", "/catalogue", "/account", "/login"):
        store = shopper.get(tenant["store"] + path)
        html = store.get_data(as_text=True)
        assert store.status_code == 503, path
        assert "Northwind Cloud is temporarily unavailable" in html
        assert "Microsoft 365" not in html
    assert shopper.get(tenant["store"] + "/brand.css").status_code == 200
    with app.app_context():
        assert db.session.get(Subscription, sub_id).status == "Active"

    # reactivated: everything opens again
    response = act(client, tenant, "reactivate")
    assert response.status_code == 303
    assert statuses(app, tenant) == ("Active", "Active")
    _, again = tenant_login(app)
    assert again.status_code == 302
    assert shopper.get(tenant["store"] + "/account").status_code == 200
    assert audit_actions(app, tenant)[-1] == "tenant_reseller.reactivate"


def test_suspend_and_reactivate_are_refused_in_the_wrong_status(app, client, tenant):
    """Reactivate applies only to a Suspended tenant, Suspend only to an Active one."""
    response = act(client, tenant, "reactivate")
    assert response.status_code == 400
    assert "only a tenant that is Suspended can be reactivated" in response.get_data(as_text=True)
    assert statuses(app, tenant) == ("Active", "Active")
    act(client, tenant, "suspend")
    again = act(client, tenant, "suspend")
    assert again.status_code == 400 and statuses(app, tenant) == ("Suspended", "Suspended")


def test_downgrade_says_what_it_turns_off_and_does_it(app, client, tenant):
    """Premium → Basic lists the custom domain, footer links and users beyond the Basic limit
    before the confirmation, then removes them; Basic → Premium is the counterpart."""
    with app.app_context():
        storefront = db.session.get(Storefront, tenant["storefront_id"])
        storefront.custom_domain = "shop.northwind.example"
        storefront.footer_links = [{"label": "Terms", "url": "https://northwind.example/t"}]
        db.session.add(
            User(
                organization_id=tenant["org_id"],
                username="helper",
                email="helper@northwind.example",
                password_hash=hash_password("helper-password-123"),
            )
        )
        db.session.commit()
    _, helper_in = tenant_login(app, username="helper", password="helper-password-123")
    assert helper_in.status_code == 302

    confirm = text(client.get(f"{tenant['url']}/lifecycle/edition"))
    assert "from <strong>Premium</strong> to <strong>Basic</strong>" in confirm
    assert "The custom domain shop.northwind.example is removed" in confirm
    assert "1 footer link(s) are removed" in confirm
    assert "Users beyond the Basic limit of 1 are deactivated: helper." in confirm

    response = act(client, tenant, "edition", edition="Basic")
    assert response.status_code == 303
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "now has the Basic edition" in flashed and "helper" in flashed
    with app.app_context():
        storefront = db.session.get(Storefront, tenant["storefront_id"])
        assert storefront.custom_domain is None and storefront.footer_links == []
        assert db.session.get(Organization, tenant["org_id"]).edition == "Basic"
        assert db.session.get(TenantReseller, tenant["id"]).edition == "Basic"
        users = {
            u.username: u.active
            for u in db.session.scalars(
                select(User).where(User.organization_id == tenant["org_id"])
            )
        }
        assert users == {"nwadmin": True, "helper": False}
    assert audit_actions(app, tenant)[-1] == "tenant_reseller.edition"
    _, helper_out = tenant_login(app, username="helper", password="helper-password-123")
    assert helper_out.status_code == 401
    admin, admin_in = tenant_login(app)
    assert admin_in.status_code == 302
    assert "ask your distributor to upgrade" in admin.get("/users").get_data(as_text=True)

    upgraded = act(client, tenant, "edition", edition="Premium")
    assert upgraded.status_code == 303
    with app.app_context():
        assert db.session.get(Organization, tenant["org_id"]).edition == "Premium"
    assert "ask your distributor to upgrade" not in admin.get("/users").get_data(as_text=True)


def test_mark_as_deleted_needs_the_typed_name_and_can_be_restored(app, client, tenant):
    """Mark as deleted: refused unless the tenant's name is typed; then sign-in and the
    storefront are closed, the data is kept until a date shown on the page, and Restore
    returns the tenant to the status it had."""
    wrong = act(client, tenant, "delete", name="Northwind")
    assert wrong.status_code == 400
    assert "Type the tenant reseller's name, Northwind Cloud" in text(wrong)
    assert statuses(app, tenant) == ("Active", "Active")

    response = act(client, tenant, "delete", name="Northwind Cloud")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is marked as deleted. Its data is kept until" in page
    assert "retention period 30 days" in page and "Restore…" in page
    assert statuses(app, tenant) == ("Marked as Deleted", "Marked as Deleted")
    with app.app_context():
        row = db.session.get(TenantReseller, tenant["id"])
        kept = row.purge_after - utcnow()
        assert timedelta(days=29, hours=23) < kept <= timedelta(days=30)
        assert db.session.get(Organization, tenant["org_id"]).client_id == tenant["client_id"]

    _, refused = tenant_login(app)
    assert refused.status_code == 403 and DELETED_SIGN_IN in text(refused)
    store = client.get(tenant["store"] + "/")
    assert store.status_code == 404 and NEUTRAL in store.get_data(as_text=True)

    restored = act(client, tenant, "restore")
    assert restored.status_code == 303
    assert statuses(app, tenant) == ("Active", "Active")
    _, again = tenant_login(app)
    assert again.status_code == 302
    assert client.get(tenant["store"] + "/").status_code == 200
    assert audit_actions(app, tenant)[-2:] == [
        "tenant_reseller.mark_deleted",
        "tenant_reseller.restore",
    ]


def test_a_suspended_tenant_marked_as_deleted_is_restored_suspended(app, client, tenant):
    """Restore gives back the status before the deletion, not always Active."""
    act(client, tenant, "suspend")
    act(client, tenant, "delete", name="Northwind Cloud")
    act(client, tenant, "restore")
    assert statuses(app, tenant) == ("Suspended", "Suspended")


def test_restore_is_refused_after_the_retention_period(app, client, tenant):
    """Once the retention period is over the tenant can no longer be restored."""
    act(client, tenant, "delete", name="Northwind Cloud")
    with app.app_context():
        db.session.get(TenantReseller, tenant["id"]).purge_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = act(client, tenant, "restore")
    assert response.status_code == 400
    assert statuses(app, tenant) == ("Marked as Deleted", "Marked as Deleted")


def test_the_list_filters_by_status(app, client, tenant):
    """The Tenant Resellers list shows only the chosen status."""
    assert "Northwind Cloud" in client.get("/tenant-resellers?status=Active").get_data(as_text=True)
    suspended = client.get("/tenant-resellers?status=Suspended").get_data(as_text=True)
    assert "No tenant resellers are Suspended." in suspended
    act(client, tenant, "suspend")
    assert f'href="{tenant["url"]}"' in client.get("/tenant-resellers?status=Suspended").get_data(
        as_text=True
    )


def test_the_tenant_cannot_run_lifecycle_actions(app, client, tenant):
    """Only the distributor reaches the lifecycle actions; a tenant's admin gets 403/404."""
    browser, response = tenant_login(app)
    assert response.status_code == 302
    for action in ("suspend", "delete", "edition"):
        assert browser.get(f"{tenant['url']}/lifecycle/{action}").status_code in (403, 404)
    assert statuses(app, tenant) == ("Active", "Active")


def test_after_the_retention_period_the_reaper_purges_the_tenants_data(
    app, client, tenant, run_jobs
):
    """Past its retention period, a tenant marked as deleted is purged by a process the
    reaper starts: no row of its organization is left, the distributor's copy of what it
    sold stays (without the pointer), the tenant reseller record and its logs stay, and it
    can no longer be restored."""
    from jobs import reaper
    from tests.helpers import activate_back_ordering
    from webapp.models import Process

    activate_back_ordering(app, tenant["id"], run_jobs)
    _, sub_id = shopper_with_subscription(app, tenant)
    run_jobs()  # the sale is propagated to the distributor
    with app.app_context():
        copy = db.session.scalar(
            select(Subscription).where(Subscription.source_subscription_id == sub_id)
        )
        assert copy is not None and copy.organization_id != tenant["org_id"]
        copy_id = copy.id
    act(client, tenant, "delete", name="Northwind Cloud")

    with app.app_context():  # not yet due: nothing happens
        reaper.sweep()
        assert db.session.scalar(select(Process).where(Process.kind == "purge_tenant")) is None
        db.session.get(TenantReseller, tenant["id"]).purge_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        reaper.sweep()
    run_jobs()

    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "purge_tenant"))
        assert process.status == "Completed", process.message
        assert db.session.get(Organization, tenant["org_id"]) is None
        for table in db.metadata.sorted_tables:
            if "organization_id" in table.c:
                left = db.session.execute(
                    select(table.c.id).where(table.c.organization_id == tenant["org_id"])
                ).all()
                assert left == [], table.name
        row = db.session.get(TenantReseller, tenant["id"])
        assert row.status == "Marked as Deleted" and row.purged_at is not None
        assert row.tenant_organization_id is None
        kept = db.session.get(Subscription, copy_id)
        assert kept is not None and kept.source_subscription_id is None
        reaper.sweep()  # a second sweep starts no second purge
        purges = select(Process.id).where(Process.kind == "purge_tenant")
        assert len(db.session.scalars(purges).all()) == 1
    page = text(client.get(tenant["url"]))
    assert "Its data was purged on" in page and "Restore…" not in page
    assert "tenant_reseller.purge" in audit_actions(app, tenant)
    assert act(client, tenant, "restore").status_code == 400
