"""The home dashboards: each chart's numbers against a fixture computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Account,
    Order,
    Organization,
    PriceList,
    Process,
    ProcessTask,
    Product,
    StoreCustomer,
    Subscription,
    TenantReseller,
)
from webapp.services import dashboards

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
STEP_SECONDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100]


def _process(org_id, status, created_at, **extra) -> Process:
    process = Process(
        organization_id=org_id, name=f"{status} process", status=status, created_at=created_at
    )
    for key, value in extra.items():
        setattr(process, key, value)
    db.session.add(process)
    db.session.flush()
    return process


@pytest.fixture
def processes(app, demo):
    """Today: 2 Completed + 1 Failed; yesterday: 1 Cancelled; 29 days ago: 1 Completed;
    30 days ago (outside the window): 1 Completed; one Running with a heartbeat 5 minutes
    old (stuck) created 3 days ago. 20 completed creations time the step "copy_products"."""
    with app.app_context():
        today = NOW.replace(hour=9)
        for status, when in [
            ("Completed", today),
            ("Completed", today.replace(hour=1)),
            ("Failed", today),
            ("Cancelled", today - timedelta(days=1)),
            ("Completed", today - timedelta(days=29)),
            ("Completed", today - timedelta(days=30)),
        ]:
            _process(demo, status, when)
        _process(
            demo,
            "Running",
            today - timedelta(days=3),
            heartbeat_at=NOW - timedelta(minutes=5),
        )
        # 20 completed creations 40 days ago (outside the window: timings are over every
        # completed creation) time "copy_products"; the first also "create_organization".
        started = NOW - timedelta(days=40)
        for i, seconds in enumerate(STEP_SECONDS):
            timed = _process(demo, "Completed", started)
            db.session.add(
                ProcessTask(
                    process_id=timed.id,
                    position=3,
                    step="copy_products",
                    title="Copy products",
                    status="Completed",
                    started_at=started,
                    finished_at=started + timedelta(seconds=seconds),
                )
            )
            if i == 0:
                db.session.add(
                    ProcessTask(
                        process_id=timed.id,
                        position=1,
                        step="create_organization",
                        title="Create organization",
                        status="Completed",
                        started_at=started,
                        finished_at=started + timedelta(seconds=2),
                    )
                )
        db.session.commit()
    return demo


def test_processes_per_day_by_outcome_over_30_days(app, processes):
    """30 days ending today; each process counted on its day under its status; older not."""
    with app.app_context():
        days = dashboards.processes_per_day(processes, NOW)
    assert len(days) == 30
    assert days[0].day.isoformat() == "2026-11-03" and days[-1].day.isoformat() == "2026-12-02"
    assert days[-1].counts == {"Completed": 2, "Failed": 1}
    assert days[-2].counts == {"Cancelled": 1}
    assert days[0].counts == {"Completed": 1}
    assert days[-4].counts == {"Running": 1}
    assert sum(d.total for d in days) == 6


def test_creation_step_timings_median_and_p95(app, processes):
    """Median of 1..19,100 is (10+11)/2 = 10.5 s; nearest-rank p95 of 20 values is the 19th
    = 19 s; steps in their order."""
    with app.app_context():
        timings = dashboards.creation_step_timings(processes)
    assert [(t.step, t.count) for t in timings] == [
        ("create_organization", 1),
        ("copy_products", 20),
    ]
    copy = timings[1]
    assert (copy.median_seconds, copy.p95_seconds) == (10.5, 19.0)
    assert (timings[0].median_seconds, timings[0].p95_seconds) == (2.0, 2.0)


def test_needs_a_person_lists_failed_and_stuck_processes(app, processes):
    """The Failed process and the Running one silent for 5 minutes (stale after 30 s)."""
    with app.app_context():
        attention = dashboards.needs_a_person(processes, NOW, stale_seconds=30)
        assert [p.status for p in attention.failed_processes] == ["Failed"]
        assert [p.status for p in attention.stuck_processes] == ["Running"]
        assert attention.failed_events == [] and not attention.empty
        assert dashboards.needs_a_person(processes, NOW, stale_seconds=600).stuck_processes == []


def test_tenants_by_status(app, demo):
    """Two Active and one Failed tenant reseller; every other status shows 0."""
    with app.app_context():
        price_list = db.session.scalar(PriceList.in_org(demo))
        accounts = db.session.scalars(Account.in_org(demo).order_by(Account.id).limit(3)).all()
        for account, status in zip(accounts, ["Active", "Failed", "Active"], strict=True):
            db.session.add(
                TenantReseller(
                    organization_id=demo,
                    account_id=account.id,
                    price_list_id=price_list.id,
                    language="en",
                    timezone="Europe/Athens",
                    date_format="dd/MM/yyyy",
                    edition="Basic",
                    admin_username="admin",
                    admin_email="a@example.com",
                    status=status,
                )
            )
        db.session.commit()
        bars = {b.label: b.value for b in dashboards.tenants_by_status(demo)}
    assert bars == {
        "In Progress": 0,
        "Active": 2,
        "Failed": 1,
        "Cancelled": 0,
        "Suspended": 0,
        "Marked as Deleted": 0,
    }


@pytest.fixture
def sales(app, demo):
    """A tenant organization with three products; active subscriptions A 5 × 10.00 EUR,
    B 2 × 7.50 EUR, C 1 × 120.00 EUR annual, B 3 × 4.00 USD; one cancelled (A 100 × 1.00
    EUR, cancelled in November);
    orders: 2 in December, 1 in October; 2 storefront customers."""
    with app.app_context():
        platform_id = db.session.scalar(Product.in_org(demo).limit(1)).platform_id
        org = Organization(name="Sales Org", client_id="SALESORG01", parent_id=demo)
        db.session.add(org)
        db.session.flush()
        account = Account(organization_id=org.id, name="A customer")
        products = [
            Product(organization_id=org.id, platform_id=platform_id, sku=f"S-{n}", name=n)
            for n in ("Alpha", "Bravo", "Charlie")
        ]
        db.session.add_all([account, *products])
        db.session.flush()
        a, b, c = products
        oct_1 = datetime(2026, 10, 1, tzinfo=UTC)
        for product, quantity, price, currency, period, status, created, updated in [
            (a, 5, "10.00", "EUR", "Monthly", "Active", oct_1, oct_1),
            (b, 2, "7.50", "EUR", "Monthly", "Active", datetime(2026, 11, 5, tzinfo=UTC), NOW),
            (c, 1, "120.00", "EUR", "Annual", "Active", NOW, NOW),
            (b, 3, "4.00", "USD", "Monthly", "Active", NOW, NOW),
            (
                a,
                100,
                "1.00",
                "EUR",
                "Monthly",
                "Cancelled",
                oct_1,
                datetime(2026, 11, 20, tzinfo=UTC),
            ),
        ]:
            sub = Subscription(
                organization_id=org.id,
                account_id=account.id,
                product_id=product.id,
                quantity=quantity,
                unit_price=Decimal(price),
                currency=currency,
                billing_period=period,
                status=status,
                created_at=created,
            )
            db.session.add(sub)
            db.session.flush()
            sub.updated_at = updated
        for number, when in [("O-1", NOW), ("O-2", NOW), ("O-3", oct_1)]:
            db.session.add(
                Order(
                    organization_id=org.id,
                    number=number,
                    account_id=account.id,
                    currency="EUR",
                    total=Decimal("1.00"),
                    created_at=when,
                )
            )
        for email in ("one@example.com", "two@example.com"):
            db.session.add(
                StoreCustomer(
                    organization_id=org.id, account_id=account.id, email=email, password_hash="x"
                )
            )
        db.session.commit()
        names = [p.name for p in products]
        org_id = org.id
    return org_id, names


def test_tenant_sales_figures(app, sales):
    """MRR EUR = 5×10 + 2×7.50 + 120/12 = 75.00, USD = 12.00; top products by active
    quantity: A 5, B 5 (2+3; ties by name), C 1; orders per month; 2 store customers."""
    org, (a, b, c) = sales
    with app.app_context():
        recurring = dashboards.monthly_recurring_revenue(org)
        assert [(r.currency, r.amount, r.subscriptions) for r in recurring] == [
            ("EUR", Decimal("75.00"), 3),
            ("USD", Decimal("12.00"), 1),
        ]
        top = [(t.label, t.value) for t in dashboards.top_products(org)]
        assert top == [(a, 5), (b, 5), (c, 1)]
        orders = {bar.label: bar.value for bar in dashboards.orders_per_month(org, NOW)}
        assert len(orders) == 12 and list(orders)[-1] == "2026-12"
        assert (orders["2026-12"], orders["2026-11"], orders["2026-10"]) == (2, 0, 1)
        active = {
            bar.label: bar.value for bar in dashboards.active_subscriptions_per_month(org, NOW)
        }
        # October end: A and the later-cancelled one; November end: A, B (cancelled on the
        # 20th no longer counts); December: A, B, C, B-USD.
        assert (active["2026-09"], active["2026-10"], active["2026-11"], active["2026-12"]) == (
            0,
            2,
            2,
            4,
        )
        assert dashboards.storefront_customers(org) == 2


def test_distributor_home_is_the_dashboard(app, processes, auth, client):
    """Signed in, the distributor lands on the dashboard: the charts as SVG with a title and
    a table, and the failed and stuck processes linked."""
    auth.login()
    page = client.get("/").get_data(as_text=True)
    assert "Needs a person" in page and "style=" not in page
    assert '<svg class="chart-svg"' in page and '<title id="processes-per-day-title">' in page
    assert "Processes per day, last 30 days as a table" in page
    with app.app_context():
        failed = db.session.scalar(select(Process.id).where(Process.status == "Failed"))
        stuck = db.session.scalar(select(Process.id).where(Process.status == "Running"))
    assert f'href="/processes/{failed}"' in page and f'href="/processes/{stuck}"' in page
