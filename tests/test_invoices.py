"""The invoice run: the distributor bills its tenant resellers for the subscriptions that
back-ordering copied up, grouped by the Separate Invoices rule, prorated by day, as drafts it
then issues (rows made here with the ORM; the run and the issuing on a real worker)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditLog,
    Invoice,
    InvoiceLine,
    Organization,
    Product,
    Subscription,
    SubscriptionStatus,
    User,
)
from webapp.services import invoicing
from webapp.services.billing import pdf, runs
from webapp.services.passwords import hash_password

# A past month; the demo distributor's time zone is Europe/Athens (UTC+3 until 25 October,
# then UTC+2), so October runs from 2026-09-30 21:00 UTC to 2026-10-31 22:00 UTC.
PERIOD = "2026-10"
OTHER_PASSWORD = "other-password-123"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _sub_customer(org_id: int, reseller: Account, name: str, separate: bool) -> Account:
    """A sub-customer as back-ordering copies it up under the reseller's account."""
    account = Account(
        organization_id=org_id,
        name=name,
        parent_account_id=reseller.id,
        managed_by_reseller=True,
        separate_invoices=separate,
        billing_currency=reseller.billing_currency,
        enabled_for_ordering=True,
    )
    db.session.add(account)
    db.session.flush()
    return account


def _subscribe(
    account: Account,
    product: Product,
    quantity: int,
    price: str,
    *,
    created: str = "2026-09-15T10:00:00",
    status: str = SubscriptionStatus.ACTIVE,
    updated: str | None = None,
    managed: bool = True,
) -> Subscription:
    subscription = Subscription(
        organization_id=account.organization_id,
        account_id=account.id,
        product_id=product.id,
        quantity=quantity,
        unit_price=Decimal(price),
        currency=account.billing_currency,
        status=status,
        managed_by_reseller=managed,
        created_at=_utc(created),
        updated_at=_utc(updated or created),
    )
    db.session.add(subscription)
    db.session.flush()
    return subscription


@pytest.fixture
def billing(app, demo):
    """Northwind has Alpha (Separate Invoices), Beta and Gamma; Tailspin has Delta."""
    with app.app_context():
        northwind = db.session.scalar(select(Account).where(Account.name == "Northwind Cloud"))
        tailspin = db.session.scalar(select(Account).where(Account.name == "Tailspin IT"))
        products = db.session.scalars(Product.in_org(demo).order_by(Product.sku).limit(6)).all()
        alpha = _sub_customer(demo, northwind, "Alpha GmbH", separate=True)
        beta = _sub_customer(demo, northwind, "Beta AG", separate=False)
        gamma = _sub_customer(demo, northwind, "Gamma KG", separate=False)
        delta = _sub_customer(demo, tailspin, "Delta SA", separate=False)
        _subscribe(alpha, products[0], 3, "2.8550")  # 8.565 → 8.57 (half up)
        _subscribe(beta, products[1], 3, "3.3333")  # 9.9999 → 10.00
        _subscribe(gamma, products[2], 7, "1.2250")  # 8.575 → 8.58
        _subscribe(gamma, products[3], 1, "12.0000")  # 12.00
        _subscribe(delta, products[4], 2, "5.0000")  # 10.00
        # The distributor's own subscription for the same account is not back-ordered.
        _subscribe(beta, products[5], 4, "9.0000", managed=False)
        db.session.commit()
        return {
            "org_id": demo,
            "northwind": northwind.id,
            "tailspin": tailspin.id,
            "alpha": alpha.id,
            "beta": beta.id,
            "gamma": gamma.id,
            "delta": delta.id,
            "products": [p.id for p in products],
        }


def _run(app, org_id: int, run_jobs, period: str = PERIOD) -> None:
    """The invoice run of a month, queued and run on a worker."""
    with app.app_context():
        org = db.session.get(Organization, org_id)
        runs.start_run(org, invoicing.Period.parse(period), None)
    run_jobs()


def _issue(app, org_id: int, run_jobs, period: str = PERIOD) -> None:
    with app.app_context():
        org = db.session.get(Organization, org_id)
        runs.start_issue(org, invoicing.Period.parse(period), None)
    run_jobs()


def _invoices(app, org_id: int, period: str = PERIOD) -> dict[tuple, dict]:
    """The period's invoices keyed by (reseller, sub-customer or "Consolidated", status, kind)."""
    with app.app_context():
        result = {}
        for invoice in invoicing.invoices_of(org_id, invoicing.Period.parse(period)):
            target = invoice.sub_customer.name if invoice.sub_customer else "Consolidated"
            result[(invoice.account.name, target, invoice.status, invoice.kind)] = {
                "id": invoice.id,
                "number": invoice.number,
                "grouping": invoice.grouping,
                "net": invoice.net_total,
                "tax": invoice.tax_total,
                "total": invoice.total,
                "currency": invoice.currency,
                "due": invoice.due_date,
                "lines": [(ln.description, ln.quantity, ln.amount) for ln in invoice.lines],
            }
        return result


def _page_token(client, path="/invoices/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


NW, TS = "Northwind Cloud", "Tailspin IT"
DRAFT, ISSUED = ("Draft", "invoice"), ("Issued", "invoice")


def test_grouping_follows_separate_invoices_and_totals_are_exact_decimals(app, billing, run_jobs):
    """A sub-customer with Separate Invoices gets its own invoice, the reseller's others share one
    consolidated invoice, every amount is a Decimal rounded half up to cents, and drafts have
    no number until they are issued."""
    _run(app, billing["org_id"], run_jobs)
    invoices = _invoices(app, billing["org_id"])
    assert set(invoices) == {
        (NW, "Alpha GmbH", *DRAFT),
        (NW, "Consolidated", *DRAFT),
        (TS, "Consolidated", *DRAFT),
    }
    alpha = invoices[(NW, "Alpha GmbH", *DRAFT)]
    assert alpha["grouping"] == f"sub-customer:{billing['alpha']}" and alpha["number"] is None
    assert [line[1:] for line in alpha["lines"]] == [(3, Decimal("8.57"))]
    assert alpha["total"] == Decimal("8.57") and isinstance(alpha["total"], Decimal)
    consolidated = invoices[(NW, "Consolidated", *DRAFT)]
    assert [amount for _, _, amount in consolidated["lines"]] == [
        Decimal("10.00"),
        Decimal("8.58"),
        Decimal("12.00"),
    ]
    assert consolidated["total"] == Decimal("30.58")
    assert all(d.startswith(("Beta AG: ", "Gamma KG: ")) for d, _, _ in consolidated["lines"])
    assert invoices[(TS, "Consolidated", *DRAFT)]["total"] == Decimal("10.00")
    _issue(app, billing["org_id"], run_jobs)
    issued = _invoices(app, billing["org_id"])
    with app.app_context():
        year = invoicing.org_today(db.session.get(Organization, billing["org_id"])).year
    # Numbers at issue, in the list's order: reseller by name, consolidated first.
    assert [
        issued[(NW, "Consolidated", *ISSUED)]["number"],
        issued[(NW, "Alpha GmbH", *ISSUED)]["number"],
        issued[(TS, "Consolidated", *ISSUED)]["number"],
    ] == [f"INV-{year}-000001", f"INV-{year}-000002", f"INV-{year}-000003"]
    assert all(i["due"] is not None for i in issued.values())


def test_the_per_account_override_changes_the_grouping_of_the_next_run(
    app, billing, auth, client, run_jobs
):
    """Switching Separate Invoices on a copied sub-customer's page is audited and moves it to or
    from its own invoice when the drafts are made again, without billing anything twice."""
    _run(app, billing["org_id"], run_jobs)
    auth.login()
    page = client.get(f"/accounts/{billing['beta']}").get_data(as_text=True)
    assert "Managed by reseller" in page
    assert "overrides the reseller's Separate Invoices setting" in page
    token = csrf_from(page)
    response = client.post(
        f"/accounts/{billing['beta']}/separate-invoices", data={"csrf_token": token, "enabled": "1"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/accounts/{billing['alpha']}/separate-invoices",
        data={"csrf_token": token, "enabled": "0"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Separate Invoices: <strong>No</strong>" in response.get_data(as_text=True)
    with app.app_context():
        logs = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "account.separate_invoices")
        ).all()
        assert {(log.entity_id, log.after["separate_invoices"]) for log in logs} == {
            (billing["beta"], True),
            (billing["alpha"], False),
        }
    _run(app, billing["org_id"], run_jobs)
    after = _invoices(app, billing["org_id"])
    assert set(after) == {
        (NW, "Beta AG", *DRAFT),
        (NW, "Consolidated", *DRAFT),
        (TS, "Consolidated", *DRAFT),
    }
    assert after[(NW, "Beta AG", *DRAFT)]["total"] == Decimal("10.00")
    assert after[(NW, "Consolidated", *DRAFT)]["total"] == Decimal("29.15")


def test_the_switch_is_only_for_sub_customers_copied_up(app, billing, auth, client):
    """The distributor's own accounts have no Separate Invoices switch: posting to it is a 404."""
    auth.login()
    token = _page_token(client)
    page = client.get(f"/accounts/{billing['northwind']}").get_data(as_text=True)
    assert "separate-invoices" not in page
    response = client.post(
        f"/accounts/{billing['northwind']}/separate-invoices",
        data={"csrf_token": token, "enabled": "1"},
    )
    assert response.status_code == 404


def test_subscriptions_are_billed_for_the_days_of_the_period(app, billing, run_jobs):
    """Prorated by day in the distributor's time zone: a subscription cancelled before the
    month or created after it costs nothing; one cancelled on 10 October costs 9 days of 31;
    one created late on 31 October (Athens) costs one day."""
    with app.app_context():
        beta = db.session.get(Account, billing["beta"])
        product = db.session.get(Product, billing["products"][0])
        cases = {
            "cancelled before": ("2026-08-01T00:00:00", "Cancelled", "2026-09-20T12:00:00"),
            "cancelled 10 October": ("2026-08-01T00:00:00", "Cancelled", "2026-10-10T12:00:00"),
            "cancelled 1 October": ("2026-08-01T00:00:00", "Cancelled", "2026-09-30T21:00:00"),
            "created after": ("2026-11-02T09:00:00", "Active", None),
            "created 1 November Athens": ("2026-10-31T22:30:00", "Active", None),
            "created 31 October Athens": ("2026-10-31T21:30:00", "Active", None),
        }
        ids = {}
        for name, (created, status, updated) in cases.items():
            ids[name] = _subscribe(
                beta, product, 31, "1.0000", created=created, status=status, updated=updated
            ).id
        db.session.commit()
    _run(app, billing["org_id"], run_jobs)
    with app.app_context():
        amounts = dict(
            db.session.execute(select(InvoiceLine.subscription_id, InvoiceLine.amount)).all()
        )
    assert amounts.get(ids["cancelled 10 October"]) == Decimal("9.00")  # 31 × 9/31
    assert amounts.get(ids["created 31 October Athens"]) == Decimal("1.00")  # 31 × 1/31
    for nothing in ("cancelled before", "cancelled 1 October", "created after"):
        assert ids[nothing] not in amounts, nothing
    assert ids["created 1 November Athens"] not in amounts


def test_a_re_run_never_changes_an_issued_invoice(app, billing, run_jobs):
    """After issuing, a late change is billed by a new draft for the difference (an invoice
    when it costs more, a credit note when less); the issued invoice keeps its number, lines
    and totals, and re-running again changes nothing."""
    _run(app, billing["org_id"], run_jobs)
    _issue(app, billing["org_id"], run_jobs)
    first = _invoices(app, billing["org_id"])
    tailspin = first[(TS, "Consolidated", *ISSUED)]
    with app.app_context():
        delta = db.session.scalar(
            select(Subscription).where(Subscription.account_id == billing["delta"])
        )
        delta.quantity = 5  # reported late: it had 5 all month
        beta = db.session.scalar(
            select(Subscription).where(
                Subscription.account_id == billing["beta"], Subscription.managed_by_reseller
            )
        )
        beta.quantity = 1  # and 1, not 3
        db.session.commit()
    _run(app, billing["org_id"], run_jobs)
    second = _invoices(app, billing["org_id"])
    assert second[(TS, "Consolidated", *ISSUED)] == tailspin
    assert second[(TS, "Consolidated", *DRAFT)]["total"] == Decimal("15.00")
    credit = second[(NW, "Consolidated", "Draft", "credit_note")]
    assert credit["total"] == Decimal("-6.67")  # 3.3333 × 2 less
    _run(app, billing["org_id"], run_jobs)  # the drafts are replaced by the same ones

    def without_ids(invoices):
        return {k: {**v, "id": None} for k, v in invoices.items()}

    assert without_ids(_invoices(app, billing["org_id"])) == without_ids(second)
    _issue(app, billing["org_id"], run_jobs)
    with app.app_context():
        year = invoicing.org_today(db.session.get(Organization, billing["org_id"])).year
        original = db.session.get(Invoice, tailspin["id"])
        assert (original.number, original.total) == (tailspin["number"], Decimal("10.00"))
        assert [(ln.quantity, ln.amount) for ln in original.lines] == [(2, Decimal("10.00"))]
        issued = db.session.scalars(select(Invoice).where(Invoice.status == "Issued")).all()
        numbers = sorted(i.number for i in issued)
    assert numbers == [f"CN-{year}-000001"] + [f"INV-{year}-00000{n}" for n in range(1, 5)]


def test_tax_and_the_sellers_details_are_on_the_issued_invoice(
    app, billing, auth, client, run_jobs
):
    """Billing settings (tax rate, payment terms, address) apply to the drafts made after
    them; issuing records the seller's and buyer's details and the due date."""
    auth.login()
    token = _page_token(client, "/invoices/settings")
    bad = client.post(
        "/invoices/settings",
        data={"csrf_token": token, "tax_rate": "abc", "payment_terms_days": "-1"},
    )
    assert bad.status_code == 400
    assert "Enter a tax rate" in bad.get_data(as_text=True)
    ok = client.post(
        "/invoices/settings",
        data={
            "csrf_token": token,
            "tax_rate": "24",
            "payment_terms_days": "14",
            "billing_address": "1 Cloud Street\nAthens",
        },
    )
    assert ok.status_code == 303
    with app.app_context():
        northwind = db.session.get(Account, billing["northwind"])
        northwind.billing_address = "5 Reseller Road"
        northwind.billing_email = "billing@northwind.example"
        db.session.commit()
    _run(app, billing["org_id"], run_jobs)
    _issue(app, billing["org_id"], run_jobs)
    issued = _invoices(app, billing["org_id"])[(NW, "Consolidated", *ISSUED)]
    assert (issued["net"], issued["tax"], issued["total"]) == (
        Decimal("30.58"),
        Decimal("7.34"),
        Decimal("37.92"),
    )
    with app.app_context():
        invoice = db.session.get(Invoice, issued["id"])
        org = db.session.get(Organization, billing["org_id"])
        assert invoice.seller_address == "1 Cloud Street\nAthens"
        assert invoice.buyer_address == "5 Reseller Road"
        assert invoice.buyer_email == "billing@northwind.example"
        assert (invoice.due_date - invoicing.org_today(org)).days == 14
    page = client.get(f"/invoices/{issued['id']}").get_data(as_text=True)
    assert "Tax (24 %)" in page and "5 Reseller Road" in page and "Prorated by day" in page


def test_the_pdf_shows_the_number_and_total_and_is_emailed(
    app, billing, auth, client, run_jobs, smtp_sink
):
    """Issuing emails each invoice to the reseller's billing contact with its PDF attached;
    the PDF's text shows the invoice number and total."""
    with app.app_context():
        db.session.get(Account, billing["northwind"]).billing_email = "billing@northwind.example"
        db.session.commit()
    _run(app, billing["org_id"], run_jobs)
    _issue(app, billing["org_id"], run_jobs)
    issued = _invoices(app, billing["org_id"])[(NW, "Consolidated", *ISSUED)]
    auth.login()
    response = client.get(f"/invoices/{issued['id']}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert issued["number"] in text and "€30.58" in text and "Beta AG" in text
    to_northwind = [m for m in smtp_sink.messages if m["To"] == "billing@northwind.example"]
    assert len(to_northwind) == 2  # its consolidated invoice and Alpha's separate one
    [message] = [m for m in to_northwind if issued["number"] in m["Subject"]]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{issued['number']}.pdf"
    attached = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert issued["number"] in attached


def test_a_draft_pdf_says_draft(app, billing, run_jobs):
    """A draft renders with DRAFT and no number."""
    _run(app, billing["org_id"], run_jobs)
    with app.app_context():
        draft = db.session.scalar(select(Invoice))
        text = PdfReader(io.BytesIO(pdf.render(draft))).pages[0].extract_text()
    assert "DRAFT" in text


@pytest.mark.parametrize(
    "period,message",
    [
        ("", "Enter a period as YYYY-MM"),
        ("October", "is not a period: use YYYY-MM"),
        ("2026-13", "The month must be between 01 and 12."),
        ("2099-01", "January 2099 has not ended yet"),
    ],
)
def test_a_bad_period_on_the_page_is_a_400_next_to_the_field(
    app, demo, auth, client, period, message
):
    """A bad period (or one that has not ended), shown or run, answers 400 with the message
    next to the field; nothing runs."""
    auth.login()
    token = _page_token(client)
    for response in (
        client.post("/invoices/run", data={"csrf_token": token, "period": period}),
        client.get("/invoices/", query_string={"period": period}),
    ):
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        error = re.search(r'<p class="error" id="period-error">([^<]*)</p>', html)
        assert error and message in error[1]
        assert 'aria-describedby="period-hint period-error"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_the_current_month_cannot_be_billed(app, demo, auth, client):
    """Only a month that has ended in the distributor's time zone is billed."""
    with app.app_context():
        today = invoicing.org_today(db.session.get(Organization, demo))
    auth.login()
    token = _page_token(client)
    response = client.post(
        "/invoices/run", data={"csrf_token": token, "period": f"{today.year}-{today.month:02d}"}
    )
    assert response.status_code == 400
    assert "has not ended yet" in response.get_data(as_text=True)


@pytest.fixture
def other_invoice(app, demo):
    """Another distributor with a reseller and its own invoice of the same period."""
    with app.app_context():
        org = Organization(name="Other Distributor", client_id="OTHER")
        db.session.add(org)
        db.session.flush()
        reseller = Account(organization_id=org.id, name="Other Reseller", is_reseller=True)
        db.session.add(reseller)
        db.session.flush()
        invoice = Invoice(
            organization_id=org.id,
            account_id=reseller.id,
            number="INV-2026-999999",
            status="Issued",
            period=PERIOD,
            grouping="consolidated",
            currency="EUR",
            net_total=Decimal("1.00"),
            total=Decimal("1.00"),
        )
        db.session.add(invoice)
        db.session.commit()
        return invoice.id


def test_another_organizations_invoice_is_a_404(
    app, billing, other_invoice, auth, client, run_jobs
):
    """The demo distributor's staff get 404 for another distributor's invoice and its PDF, and
    their run neither lists nor touches it."""
    _run(app, billing["org_id"], run_jobs)
    auth.login()
    assert client.get(f"/invoices/{other_invoice}").status_code == 404
    assert client.get(f"/invoices/{other_invoice}.pdf").status_code == 404
    listing = client.get(f"/invoices/?period={PERIOD}").get_data(as_text=True)
    assert "Other Reseller" not in listing and "Beta AG" not in listing  # drafts list accounts
    assert "Northwind Cloud" in listing
    with app.app_context():
        assert db.session.get(Invoice, other_invoice).number == "INV-2026-999999"


def test_a_tenants_users_get_404_for_invoices(app, billing, auth, client, run_jobs):
    """Invoices and the Separate Invoices switch are the distributor's: a tenant's users get 404."""
    with app.app_context():
        tenant = Organization(
            name="Northwind BSS", client_id="TENANT0001", parent_id=billing["org_id"]
        )
        db.session.add(tenant)
        db.session.flush()
        db.session.add(
            User(
                organization_id=tenant.id,
                username="nwadmin",
                password_hash=hash_password(OTHER_PASSWORD),
                role="admin",
            )
        )
        db.session.commit()
    _run(app, billing["org_id"], run_jobs)
    with app.app_context():
        invoice_id = db.session.scalar(select(Invoice.id))
    assert auth.login("TENANT0001", "nwadmin", OTHER_PASSWORD).status_code == 302
    token = auth.token("/")
    assert "Invoices</a>" not in client.get("/", follow_redirects=True).get_data(as_text=True)
    for path in (
        "/invoices/",
        f"/invoices/{invoice_id}",
        f"/invoices/{invoice_id}.pdf",
        f"/invoices/print?period={PERIOD}",
        "/invoices/reconciliation",
        "/invoices/settings",
    ):
        assert client.get(path).status_code == 404, path
    for path in ("/invoices/run", "/invoices/issue", "/invoices/reconciliation/repair"):
        assert client.post(path, data={"csrf_token": token, "period": PERIOD}).status_code == 404
    switch = client.post(
        f"/accounts/{billing['alpha']}/separate-invoices",
        data={"csrf_token": token, "enabled": "0"},
    )
    assert switch.status_code == 404


@pytest.mark.slow
def test_cli_run_and_issue_with_wait(app, billing, worker_process):
    """`flask invoices run --wait` and `issue --wait` follow their processes on a worker."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invoices", "run", "--period", PERIOD, "--wait"])
    assert result.exit_code == 0, result.output
    assert "Make draft invoices: Completed. 3 draft(s) for 2 reseller(s)" in result.output
    assert "total EUR 49.15" in result.output
    issued = runner.invoke(args=["invoices", "issue", "--period", PERIOD, "--wait", "--json"])
    assert issued.exit_code == 0, issued.output
    assert '"status": "Completed"' in issued.output


@pytest.mark.parametrize(
    "period,message",
    [
        ("2026-13", "The month must be between 01 and 12."),
        ("11/2026", "is not a period: use YYYY-MM"),
        ("2099-01", "January 2099 has not ended yet"),
    ],
)
def test_cli_bad_period_exits_2(app, billing, period, message):
    """A bad --period stops the CLI with exit code 2 and a clear message, and bills nothing."""
    result = app.test_cli_runner().invoke(args=["invoices", "run", "--period", period])
    assert result.exit_code == 2
    assert "--period: " in result.output and message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_the_months_invoices_export_to_csv(app, billing, auth, client, run_jobs):
    """?format=csv streams the month's drafts and issued invoices, one row each, in the
    page's order, with net, tax and total."""
    import csv

    _run(app, billing["org_id"], run_jobs)
    auth.login()
    response = client.get(f"/invoices/?period={PERIOD}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"invoices-{PERIOD}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Number", "Status", "Kind", "Reseller", "Invoice for"]
    with app.app_context():
        count = len(invoicing.invoices_of(billing["org_id"], invoicing.Period.parse(PERIOD)))
    assert count > 0 and len(rows) == count + 1
    assert {r[3] for r in rows[1:]} <= {"Northwind Cloud", "Tailspin IT"}
    assert any(r[4] == "Alpha GmbH" for r in rows[1:])
