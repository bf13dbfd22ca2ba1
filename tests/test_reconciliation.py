"""Reconciliation: every paid subscription of a tenant against its copy in the distributor's
BSS, and every copy against the month's invoices. Zero differences after real activity; a
difference is listed, repaired by a queued process, and blocks issuing until then."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from tests.helpers import activate_back_ordering, submit_creation
from webapp.extensions import db
from webapp.models import (
    Account,
    DomainEvent,
    Invoice,
    InvoiceLine,
    Order,
    Organization,
    PriceList,
    PriceListItem,
    Process,
    Product,
    Subscription,
    TenantReseller,
)
from webapp.services import commerce, invoicing
from webapp.services.billing import reconciliation, runs


def _tenant(app, auth, client, run_jobs, account="Northwind Cloud", **overrides) -> int:
    auth.login()
    submit_creation(client, app, account=account, **overrides)
    run_jobs()
    with app.app_context():
        return db.session.scalar(
            select(TenantReseller.id)
            .join(Account, Account.id == TenantReseller.account_id)
            .where(Account.name == account)
        )


def _sell(app, tenant_id: int, quantity: int, customer="Buyer GmbH", product_index=0) -> int:
    with app.app_context():
        org_id = db.session.get(TenantReseller, tenant_id).tenant_organization_id
        account = db.session.scalar(Account.in_org(org_id).where(Account.name == customer))
        if account is None:
            email = f"{customer.split()[0].lower()}@example.com"
            account = commerce.sign_up(org_id, customer, email, "buyer-password-1", "EUR").account
        price_list = db.session.scalar(PriceList.in_org(org_id))
        product = db.session.scalars(
            Product.in_org(org_id)
            .where(Product.source_product_id.is_not(None))
            .order_by(Product.id)
        ).all()[product_index]
        lines = commerce.cart_lines(org_id, price_list, {str(product.id): quantity})
        return commerce.place_order(account, price_list, lines).lines[0].subscription_id


def _report(app, demo):
    with app.app_context():
        return reconciliation.reconcile(demo)


def _shift_back(app, days: int) -> None:
    """Everything that happened, as if it had happened `days` earlier (to bill a past month)."""
    with app.app_context():
        delta = timedelta(days=days)
        for sub in db.session.scalars(select(Subscription)):
            sub.created_at, sub.updated_at = sub.created_at - delta, sub.updated_at - delta
        for order in db.session.scalars(select(Order)):
            order.created_at -= delta
            if order.effective_at is not None:
                order.effective_at -= delta
        for event in db.session.scalars(select(DomainEvent)):
            event.created_at -= delta
        db.session.commit()


def test_zero_differences_after_sales_changes_and_cancellations(app, demo, auth, client, run_jobs):
    """Sold before activation, activation, sold after, changed, cancelled: every paid
    subscription has an equal copy; the CLI says so with exit code 0."""
    tenant_id = _tenant(app, auth, client, run_jobs)
    early = _sell(app, tenant_id, 3)
    with app.app_context():
        commerce.change_quantity(db.session.get(Subscription, early), 4)
    activate_back_ordering(app, tenant_id, run_jobs)
    later = _sell(app, tenant_id, 2, customer="Second Ltd", product_index=1)
    gone = _sell(app, tenant_id, 1, product_index=2)
    run_jobs()
    with app.app_context():
        commerce.change_quantity(db.session.get(Subscription, later), 7)
        commerce.cancel(db.session.get(Subscription, gone))
    run_jobs()
    report = _report(app, demo)
    assert report.subscriptions == 3 and report.differences == []
    result = app.test_cli_runner().invoke(args=["billing", "reconcile", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["differences"] == []


def test_a_difference_is_listed_and_repaired(app, demo, auth, client, run_jobs):
    """A copy that differs (tampered with) is listed on the page and by the CLI (exit 1);
    the repair, a queued audited process, sends the state again: an order for the difference,
    then zero differences."""
    tenant_id = _tenant(app, auth, client, run_jobs)
    activate_back_ordering(app, tenant_id, run_jobs)
    sub_id = _sell(app, tenant_id, 3)
    run_jobs()
    with app.app_context():
        copy = db.session.scalar(
            select(Subscription).where(Subscription.source_subscription_id == sub_id)
        )
        copy.quantity = 9
        db.session.commit()
    report = _report(app, demo)
    assert [(d.kind, d.expected, d.actual) for d in report.differences] == [("quantity", "3", "9")]
    page = client.get("/invoices/reconciliation").get_data(as_text=True)
    assert "1 difference." in page and "quantity 3 for the reseller, 9 in your BSS" in page
    cli = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert cli.exit_code == 1 and "[quantity] Northwind Cloud" in cli.output
    token = auth.token("/invoices/reconciliation")
    response = client.post(
        "/invoices/reconciliation/repair",
        data={"csrf_token": token, "period": report.period.label},
    )
    assert response.status_code == 303 and "/processes/" in response.location
    run_jobs()
    assert _report(app, demo).ok
    with app.app_context():
        process = db.session.scalar(select(Process).where(Process.kind == "billing_repair"))
        assert process.status == "Completed"
        change = db.session.scalar(select(Order).where(Order.source_order_key.like("%REPAIR%")))
        assert change.kind == "Change" and change.lines[0].quantity == -6


def test_issuing_is_refused_while_the_reconciliation_differs(app, demo, auth, client, run_jobs):
    """A quantity change whose back-ordering failed leaves last month's drafts short: they are
    not issued (the process fails saying which); the repair applies the change with its own
    date, the drafts are made again, and the invoice bills every sale exactly once."""
    tenant_id = _tenant(app, auth, client, run_jobs)
    early = _sell(app, tenant_id, 3)  # before activation
    activate_back_ordering(app, tenant_id, run_jobs)
    _sell(app, tenant_id, 2, customer="Second Ltd", product_index=1)
    run_jobs()
    with app.app_context():
        tenant = db.session.get(TenantReseller, tenant_id)
        source = db.session.get(Product, db.session.get(Subscription, early).product_id)
        item = db.session.scalar(
            select(PriceListItem).where(
                PriceListItem.price_list_id == tenant.price_list_id,
                PriceListItem.product_id == source.source_product_id,
            )
        )
        kept = {
            c: getattr(item, c)
            for c in ("organization_id", "price_list_id", "product_id", "retail_price")
        }
        db.session.delete(item)
        db.session.commit()
        commerce.change_quantity(db.session.get(Subscription, early), 4)
    run_jobs()  # the change fails: its product left the reseller's price list
    _shift_back(app, 40)
    with app.app_context():
        org = db.session.get(Organization, demo)
        period = invoicing.default_period(org)
        runs.start_run(org, period, None)
    run_jobs()
    with app.app_context():
        runs.start_issue(db.session.get(Organization, demo), period, None)
    run_jobs()
    with app.app_context():
        issuing = db.session.scalar(select(Process).where(Process.kind == "invoice_issue"))
        assert issuing.status == "Failed"
        assert "quantity 4 for the reseller, 3 in your BSS" in issuing.message
        assert db.session.scalar(select(func.count()).where(Invoice.status == "Issued")) == 0
        db.session.add(PriceListItem(**kept))  # the distributor puts the product back
        db.session.commit()
        org = db.session.get(Organization, demo)
        runs.start_repair(org, reconciliation.reconcile(demo, period), None)
    run_jobs()
    with app.app_context():
        assert reconciliation.reconcile(demo, period).ok
        runs.start_issue(db.session.get(Organization, demo), period, None)
    run_jobs()
    with app.app_context():
        issued = db.session.scalars(select(Invoice).where(Invoice.status == "Issued")).all()
        # Separate Invoices was on for the tenant: an invoice per sub-customer.
        assert len(issued) == 2 and all(i.number for i in issued)
        billed = db.session.scalars(select(InvoiceLine.subscription_id)).all()
        copies = db.session.scalars(
            select(Subscription.id).where(
                Subscription.organization_id == demo, Subscription.managed_by_reseller
            )
        ).all()
        assert sorted(billed) == sorted(copies) and len(copies) == 2  # each once


def test_the_lite_upgrades_originals_are_billed(app, demo, auth, client, run_jobs):
    """After upgrading Contoso Lite, its customers' original subscriptions are on its
    invoice for a month that has ended, and reconciliation finds no differences."""
    tenant_id = _tenant(app, auth, client, run_jobs, "Contoso Lite", price_list_name="Partner USD")
    token = auth.token(f"/tenant-resellers/{tenant_id}/upgrade-lite")
    client.post(
        f"/tenant-resellers/{tenant_id}/upgrade-lite", data={"csrf_token": token, "confirm": "yes"}
    )
    run_jobs()
    _shift_back(app, 40)
    with app.app_context():
        org = db.session.get(Organization, demo)
        period = invoicing.default_period(org)
        runs.start_run(org, period, None)
    run_jobs()
    with app.app_context():
        contoso = db.session.scalar(select(Account).where(Account.name == "Contoso Lite"))
        lines = db.session.scalars(
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.account_id == contoso.id)
        ).all()
        assert len(lines) == 4 and all(line.amount > 0 for line in lines)
        assert reconciliation.reconcile(demo, period).ok
