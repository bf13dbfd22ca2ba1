"""List pages whose cost does not grow with the data: paginated (no silent cut), sortable
by whitelisted columns (aria-sort), searchable, exportable to CSV (quoted, formulas
neutralised), with the same number of queries for 5 rows as for 200."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from webapp.extensions import db
from webapp.listing import safe_cell
from webapp.models import Account, AccountPlatformSync, ProvisioningPlatform, SyncStatus


@contextmanager
def counted(app):
    """Count the SQL statements run inside the block."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _add_accounts(app, organization_id: int, start: int, count: int) -> None:
    """Resellers and customers, every third reseller synced, as a growing business has."""
    with app.app_context():
        platform = db.session.scalars(select(ProvisioningPlatform)).first()
        for n in range(start, start + count):
            account = Account(
                organization_id=organization_id,
                name=f"Grown {n:04d}",
                is_reseller=n % 2 == 0,
                enabled_for_ordering=n % 3 == 0,
                billing_currency="EUR",
            )
            db.session.add(account)
            if n % 6 == 0 and platform is not None:
                account.syncs.append(
                    AccountPlatformSync(
                        organization_id=organization_id,
                        platform=platform,
                        status=SyncStatus.SYNCED_AS_RESELLER,
                    )
                )
        db.session.commit()


def _queries_for(app, client, url: str) -> int:
    client.get(url)  # warm: first-request work (sessions, caches) is not the list's cost
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(statements)


def test_accounts_page_queries_do_not_grow_with_rows(app, demo, auth, client):
    """/accounts/ (readiness of every reseller on the page included) runs as many queries
    with 5 more accounts as with 200 more: readiness is checked in one batch per page."""
    auth.login()
    _add_accounts(app, demo, 0, 5)
    small = _queries_for(app, client, "/accounts/")
    _add_accounts(app, demo, 5, 195)
    large = _queries_for(app, client, "/accounts/")
    assert large == small
    for url in ("/accounts/?filter=resellers", "/accounts/?filter=ready", "/accounts/?q=Grown"):
        assert _queries_for(app, client, url) <= small + 1, url


def test_accounts_are_paged_not_cut(app, demo, auth, client):
    """200 accounts: 50 on a page, the total said, a next page, the last page reachable,
    a page past the end is 404 and a malformed page is the first."""
    auth.login()
    _add_accounts(app, demo, 0, 200)
    with app.app_context():
        total = db.session.scalar(
            select(db.func.count())
            .select_from(Account)
            .where(Account.organization_id == demo, Account.parent_account_id.is_(None))
        )
    first = client.get("/accounts/").get_data(as_text=True)
    assert f"1–50 of {total:,}<" in first
    assert first.count('href="/accounts/') - first.count('href="/accounts/new') >= 50
    assert 'rel="next"' in first
    last_page = -(-total // 50)
    last = client.get(f"/accounts/?page={last_page}").get_data(as_text=True)
    assert f"{(last_page - 1) * 50 + 1}–{total} of {total}" in last
    assert 'rel="next"' not in last
    assert client.get(f"/accounts/?page={last_page + 1}").status_code == 404
    assert "1–50 of" in client.get("/accounts/?page=abc").get_data(as_text=True)


def test_accounts_sort_by_whitelisted_columns_only(app, demo, auth, client):
    """?sort=name&dir=desc orders by name descending and says so in aria-sort; an unknown
    sort key (or an injection attempt) falls back to the default order."""
    auth.login()
    _add_accounts(app, demo, 0, 60)
    page = client.get("/accounts/?sort=name&dir=desc&q=Grown").get_data(as_text=True)
    assert page.index("Grown 0059") < page.index("Grown 0058")
    assert 'aria-sort="descending"' in page
    assert "Grown 0009" not in page  # on page 2
    fragment = client.get("/accounts/?sort=name&dir=desc&q=Grown", headers={"HX-Request": "1"})
    assert fragment.status_code == 200
    assert 'aria-sort="descending"' in fragment.get_data(as_text=True)
    assert '<nav class="pager"' in fragment.get_data(as_text=True)
    odd = client.get("/accounts/?sort=name;drop table account&q=Grown")
    assert odd.status_code == 200
    body = odd.get_data(as_text=True)
    assert body.index("Grown 0000") < body.index("Grown 0001")


def test_accounts_csv_export_streams_every_row_quoted_and_neutralised(app, demo, auth, client):
    """The CSV holds every matching account (not one page), with commas and quotes quoted and
    a name starting with = prefixed by ' so a spreadsheet shows it as text."""
    auth.login()
    _add_accounts(app, demo, 0, 120)
    with app.app_context():
        db.session.add_all(
            [
                Account(organization_id=demo, name='=HYPERLINK("http://evil")', is_reseller=True),
                Account(organization_id=demo, name='Smith, "Jones" & Co', billing_currency="EUR"),
            ]
        )
        db.session.commit()
    response = client.get("/accounts/?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Name", "Type", "Enabled for ordering", "Billing currency"]
    names = [r[0] for r in rows[1:]]
    assert sum(1 for n in names if n.startswith("Grown ")) == 120
    assert '\'=HYPERLINK("http://evil")' in names
    assert 'Smith, "Jones" & Co' in names
    reseller = next(r for r in rows if r[0] == "Grown 0000")
    assert reseller[4].startswith(("Ready", "Not ready"))
    searched = client.get("/accounts/?format=csv&q=Smith").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(searched.lstrip("\ufeff"))))) == 2


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20", "'+31 20"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Plain", "Plain"),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cells_that_start_like_a_formula_are_prefixed(value, cell):
    """=, +, - and @ at the start of a cell get a ' prefix; other values are unchanged."""
    assert safe_cell(value) == cell


def _add_orders(app, organization_id: int, start: int, count: int) -> None:
    """Orders with two lines each and a subscription per order, on the demo's customers."""
    from decimal import Decimal

    from webapp.models import Order, OrderLine, Product, Subscription

    with app.app_context():
        accounts = db.session.scalars(Account.in_org(organization_id).order_by(Account.id)).all()
        products = db.session.scalars(
            Product.in_org(organization_id).order_by(Product.id).limit(3)
        ).all()
        for n in range(start, start + count):
            account = accounts[n % len(accounts)]
            order = Order(
                organization_id=organization_id,
                number=f"T-{n:05d}",
                account_id=account.id,
                currency="EUR",
                total=Decimal("10.00"),
            )
            order.lines = [
                OrderLine(product_id=products[0].id, quantity=1, unit_price=Decimal("4.00")),
                OrderLine(product_id=products[n % 3].id, quantity=2, unit_price=Decimal("3.00")),
            ]
            db.session.add(order)
            db.session.add(
                Subscription(
                    organization_id=organization_id,
                    account_id=account.id,
                    product_id=products[n % 3].id,
                    quantity=n + 1,
                    unit_price=Decimal("3.00"),
                    currency="EUR",
                )
            )
        db.session.commit()


@pytest.mark.parametrize("url", ["/orders", "/subscriptions"])
def test_orders_and_subscriptions_queries_do_not_grow_with_rows(app, demo, auth, client, url):
    """Orders (with their lines and products) and subscriptions: the same queries for 5 rows
    as for 200, every row reachable through pages (no 500-row cut)."""
    auth.login()
    _add_orders(app, demo, 0, 5)
    small = _queries_for(app, client, url)
    _add_orders(app, demo, 5, 195)
    assert _queries_for(app, client, url) == small
    page = client.get(url).get_data(as_text=True)
    total = int(re.search(r"1–50 of ([\d,]+)", page).group(1).replace(",", ""))
    assert total >= 200
    last = -(-total // 50)
    assert client.get(f"{url}?page={last}").status_code == 200
    assert client.get(f"{url}?page={last + 1}").status_code == 404


def test_orders_search_sort_and_csv(app, demo, auth, client):
    """Orders: search by number, sort by number both ways (aria-sort), CSV of every order."""
    auth.login()
    _add_orders(app, demo, 0, 60)
    page = client.get("/orders?q=T-0005").get_data(as_text=True)
    assert "T-00050" in page and "T-00012" not in page
    ascending = client.get("/orders?sort=number").get_data(as_text=True)
    assert 'aria-sort="ascending"' in ascending
    assert ascending.index("T-00000") < ascending.index("T-00001")
    descending = client.get("/orders?sort=number&dir=desc").get_data(as_text=True)
    assert "T-00059" in descending and "T-00000" not in descending
    exported = client.get("/orders?format=csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][0] == "Order" and len(rows) == 61
    assert any("2 ×" in r[3] for r in rows[1:])


def test_subscriptions_search_and_csv(app, demo, auth, client):
    """Subscriptions: search by customer name; the CSV holds every matching row."""
    auth.login()
    _add_orders(app, demo, 0, 60)
    with app.app_context():
        name = db.session.scalars(Account.in_org(demo).order_by(Account.id)).first().name
    page = client.get(f"/subscriptions?q={name}").get_data(as_text=True)
    assert name in page
    exported = client.get(f"/subscriptions?format=csv&q={name}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Customer", "Product"]
    assert len(rows) > 1 and all(r[0] == name for r in rows[1:])


def _add_users(app, organization_id: int, start: int, count: int) -> None:
    from webapp.models import User

    with app.app_context():
        for n in range(start, start + count):
            db.session.add(
                User(
                    organization_id=organization_id,
                    username=f"staff{n:04d}",
                    email=f"staff{n:04d}@example.com",
                    password_hash="",
                    active=n % 5 != 0,
                )
            )
        db.session.commit()


def _add_tenants(app, organization_id: int, start: int, count: int) -> None:
    """Tenant reseller rows (In progress, no tenant organization yet), one per new reseller."""
    from webapp.models import PriceList, TenantReseller

    with app.app_context():
        price_list = db.session.scalars(PriceList.in_org(organization_id)).first()
        for n in range(start, start + count):
            account = Account(
                organization_id=organization_id, name=f"Tenant {n:04d}", is_reseller=True
            )
            db.session.add(account)
            db.session.flush()
            db.session.add(
                TenantReseller(
                    organization_id=organization_id,
                    account_id=account.id,
                    price_list_id=price_list.id,
                    language="en",
                    timezone="UTC",
                    date_format="dd/MM/yyyy",
                    edition="basic",
                    admin_username=f"admin{n}",
                    admin_email=f"admin{n}@example.com",
                )
            )
        db.session.commit()


@pytest.mark.parametrize(
    ("url", "grow"), [("/users", _add_users), ("/tenant-resellers", _add_tenants)]
)
def test_users_and_tenants_queries_do_not_grow_with_rows(app, demo, auth, client, url, grow):
    """Users and tenant resellers: the same queries for 5 rows as for 200; paged."""
    auth.login()
    grow(app, demo, 0, 5)
    small = _queries_for(app, client, url)
    grow(app, demo, 5, 195)
    assert _queries_for(app, client, url) == small
    page = client.get(url).get_data(as_text=True)
    total = int(re.search(r"1–50 of ([\d,]+)", page).group(1).replace(",", ""))
    assert total >= 200
    assert client.get(f"{url}?page={-(-total // 50) + 1}").status_code == 404


def test_users_search_sort_and_csv(app, demo, auth, client):
    """Users: search by email, sort by username descending, CSV of the matching users."""
    auth.login()
    _add_users(app, demo, 0, 60)
    page = client.get("/users?q=staff0059@").get_data(as_text=True)
    assert "staff0059" in page and "staff0058" not in page
    desc = client.get("/users?q=staff&sort=username&dir=desc").get_data(as_text=True)
    assert desc.index("staff0059") < desc.index("staff0058")
    exported = client.get("/users?format=csv&q=staff").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0] == ["Username", "Email", "Role", "Status", "Two-factor"]
    assert len(rows) == 61
    assert ["staff0000", "staff0000@example.com", "Staff", "Disabled", "Off"] in rows


def test_tenants_search_and_csv(app, demo, auth, client):
    """Tenant resellers: search by account name; the CSV lists every matching tenant."""
    auth.login()
    _add_tenants(app, demo, 0, 55)
    page = client.get("/tenant-resellers?q=Tenant 0054").get_data(as_text=True)
    assert "Tenant 0054" in page and "Tenant 0053" not in page
    exported = client.get("/tenant-resellers?format=csv&q=Tenant").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Name", "Account"] and len(rows) == 56


def _add_products(app, organization_id: int, start: int, count: int) -> None:
    from decimal import Decimal

    from webapp.models import Product

    with app.app_context():
        platforms = db.session.scalars(select(ProvisioningPlatform)).all()
        db.session.add_all(
            Product(
                organization_id=organization_id,
                platform_id=platforms[n % len(platforms)].id,
                sku=f"ZZ-{n:05d}",
                name=f"Zeta product {n:05d}",
                category="Grown",
                cost_price=Decimal(n) if n % 2 else None,
                cost_currency="EUR" if n % 2 else None,
            )
            for n in range(start, start + count)
        )
        db.session.commit()


def test_products_queries_do_not_grow_with_rows(app, demo, auth, client):
    """The catalogue page: the same queries for 5 more products as for 200 more (platforms
    loaded with the page), and paged."""
    auth.login()
    _add_products(app, demo, 0, 5)
    small = _queries_for(app, client, "/products?sort=sku&dir=desc")
    _add_products(app, demo, 5, 195)
    assert _queries_for(app, client, "/products?sort=sku&dir=desc") == small
    page = client.get("/products?sort=sku&dir=desc").get_data(as_text=True)
    assert "ZZ-00199" in page and "ZZ-00149" not in page
    assert 'aria-sort="descending"' in page


def test_products_csv_every_matching_row(app, demo, auth, client):
    """The catalogue's CSV: every product matching the search, not one page."""
    auth.login()
    _add_products(app, demo, 0, 120)
    exported = client.get("/products?format=csv&q=ZZ-").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Product", "SKU"] and len(rows) == 121
    assert rows[1][:2] == ["Zeta product 00001", "ZZ-00001"] or rows[1][1].startswith("ZZ-")


def _add_processes(app, organization_id: int, start: int, count: int) -> None:
    """Finished processes with two tasks each (progress is read from the tasks)."""
    from webapp.models import Process, ProcessTask

    with app.app_context():
        for n in range(start, start + count):
            process = Process(
                organization_id=organization_id,
                name=f"Grown process {n:04d}",
                status="Completed",
            )
            process.tasks = [
                ProcessTask(position=i, step=f"s{i}", title=f"Step {i}", status="Completed")
                for i in range(2)
            ]
            db.session.add(process)
        db.session.commit()


def test_processes_queries_do_not_grow_and_csv_has_every_process(app, demo, auth, client):
    """All processes: the same queries for 5 as for 200 (tasks loaded with the page); the CSV
    holds every process the filter matches, with its progress."""
    auth.login()
    _add_processes(app, demo, 0, 5)
    small = _queries_for(app, client, "/processes/")
    _add_processes(app, demo, 5, 195)
    assert _queries_for(app, client, "/processes/") == small
    exported = client.get("/processes/?format=csv&status=Completed").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Process", "Kind", "Status"]
    grown = [r for r in rows[1:] if r[0].startswith("Grown process")]
    assert len(grown) == 200 and all(r[2] == "Completed" and r[3] == "100" for r in grown)
