"""Create a Tenant Reseller: form → queued pipeline on a real worker → Client ID → sign-in."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.helpers import (
    GOOD_PASSWORD,
    account_id,
    open_creation_form,
    post_creation,
    price_list_id,
    submit_creation,
)
from webapp.extensions import db
from webapp.models import (
    Organization,
    PriceListItem,
    Process,
    Product,
    Storefront,
    TenantReseller,
    User,
)


def _only_process(app) -> Process:
    processes = db.session.scalars(select(Process)).all()
    assert len(processes) == 1
    return processes[0]


def test_whole_flow_creates_a_tenant_that_can_sign_in(app, demo, auth, client, run_jobs):
    """Save queues one process; a real worker runs every task in order to Completed; the
    tenant has the price list's products at its retail prices and its admin signs in."""
    auth.login()
    response = submit_creation(client, app)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/tenant-resellers/processes")

    with app.app_context():
        process = _only_process(app)
        assert process.status == "Queued"
        assert [t.status for t in process.tasks] == ["Pending"] * 8
        assert process.job_id == f"process-{process.id}-1"

    run_jobs()

    with app.app_context():
        process = _only_process(app)
        assert process.status == "Completed", process.message
        assert [t.status for t in process.tasks] == ["Completed"] * 8
        starts = [t.started_at for t in process.tasks]
        assert starts == sorted(starts)
        tenant = db.session.scalar(select(TenantReseller))
        org = db.session.get(Organization, tenant.tenant_organization_id)
        assert tenant.status == "Active" and org.status == "Active"
        assert (org.edition, org.language, org.timezone, org.date_format, org.currency) == (
            "Premium",
            "de",
            "Europe/Berlin",
            "dd.MM.yyyy",
            "EUR",
        )
        assert len(org.client_id) == 10 and not set(org.client_id) & set("0O1I")
        assert tenant.back_ordering_active is False
        assert tenant.admin_password_hash is None  # no credential kept once used

        source = {
            pid: price
            for pid, price in db.session.execute(
                select(PriceListItem.product_id, PriceListItem.retail_price).where(
                    PriceListItem.price_list_id == price_list_id(app, "Partner EUR")
                )
            )
        }
        copies = db.session.execute(
            select(Product.source_product_id, Product.cost_price, Product.cost_currency).where(
                Product.organization_id == org.id
            )
        ).all()
        assert len(copies) == len(source) == 64
        for source_id, cost, currency in copies:
            assert cost == source[source_id] and isinstance(cost, Decimal)
            assert currency == "EUR"
        storefront = db.session.scalar(Storefront.in_org(org.id))
        assert storefront.slug == "northwind-cloud"
        assert storefront.brand_name == "Northwind Cloud"
        admin = db.session.scalar(select(User).where(User.organization_id == org.id))
        assert admin.username == "nwadmin" and admin.role == "admin"
        client_id = org.client_id
        tenant_id = tenant.id

    page = client.get(f"/tenant-resellers/{tenant_id}").get_data(as_text=True)
    assert f"{client_id[:5]}-{client_id[5:]}" in page

    client.post("/logout", data={"csrf_token": auth.token()})
    assert (
        auth.login(client_id=client_id, username="nwadmin", password=GOOD_PASSWORD).status_code
        == 302
    )
    products = client.get("/products").get_data(as_text=True)
    assert "64 products" in products
    assert "Microsoft 365 Business Basic" in products


def test_double_submit_makes_one_tenant_and_one_process(app, demo, auth, client):
    """A second Save for the same account makes nothing new and links to the first."""
    auth.login()
    token = open_creation_form(client, app)
    first = post_creation(client, app, token)
    second = post_creation(client, app, token)  # the same form, clicked twice
    assert first.status_code == 303
    assert second.status_code in (302, 303)
    follow = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already is a tenant reseller" in follow
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantReseller)) == 1
        assert db.session.scalar(select(func.count()).select_from(Process)) == 1


def test_redis_down_at_submit_keeps_the_process_queued_then_it_runs(
    app, demo, auth, client, run_jobs
):
    """With the queue unreachable the process is saved as Queued with a warning; the
    reaper enqueues it once the queue is back, and it completes."""
    from jobs.reaper import sweep

    auth.login()
    good_url = app.config["REDIS_URL"]
    app.extensions["redis_connection"] = None
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = submit_creation(client, app)
    finally:
        app.config["REDIS_URL"] = good_url
        app.extensions["redis_connection"] = None
    assert response.status_code == 303
    page = client.get("/tenant-resellers/processes").get_data(as_text=True)
    assert "The queue is not reachable right now" in page
    with app.app_context():
        process = _only_process(app)
        assert process.status == "Queued" and process.job_id is None

    with app.app_context():
        report = sweep()
        assert report.requeued == [process.id]
    run_jobs()
    with app.app_context():
        assert _only_process(app).status == "Completed"


def test_tenant_sees_nothing_of_the_distributor(app, demo, auth, client, run_jobs):
    """Signed in as the tenant, the distributor's accounts and price lists are 404."""
    auth.login()
    submit_creation(client, app)
    run_jobs()
    northwind = account_id(app, "Northwind Cloud")
    partner = price_list_id(app, "Partner EUR")
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.parent_id.is_not(None)))
        client_id = org.client_id
        process_id = db.session.scalar(select(Process.id))
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login(client_id=client_id, username="nwadmin", password=GOOD_PASSWORD)
    for url in (
        f"/accounts/{northwind}",
        f"/price-lists/{partner}",
        f"/processes/{process_id}",
        "/tenant-resellers",
        "/tenant-resellers/processes",
    ):
        assert client.get(url).status_code == 404, url
    accounts = client.get("/accounts/").get_data(as_text=True)
    assert "Fabrikam Ltd" not in accounts and "Tailspin IT" not in accounts
