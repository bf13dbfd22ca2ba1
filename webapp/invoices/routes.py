"""The invoice run page (distributor only): choose a period, run it, see and print its invoices.
A tenant's users never see this module: every route answers 404 to them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.models import Invoice
from webapp.scoping import current_organization, org_id, require_distributor
from webapp.services import audit, invoicing
from webapp.services.invoicing import BadPeriod, Period

bp = Blueprint("invoices", __name__, url_prefix="/invoices")


@bp.before_request
def distributor_only():
    require_distributor()


def unit_price(amount: Decimal, currency: str) -> str:
    """A unit price with every decimal it has (3.125 stays 3.125; 3 shows as 3.00)."""
    org = current_organization()
    return format_currency(
        amount.normalize(), currency, locale=org.language or "en", decimal_quantization=False
    )


def period_range(period: Period) -> str:
    """01/11/2026 – 30/11/2026 in the organization's date format."""
    org = current_organization()
    locale = org.language or "en"
    last_day = period.next_first_day - timedelta(days=1)
    first = format_date(period.first_day, org.date_format, locale=locale)
    last = format_date(last_day, org.date_format, locale=locale)
    return f"{first} – {last}"


@bp.context_processor
def helpers():
    return {"unit_price": unit_price, "period_range": period_range}


def _list_page(period_text: str, period: Period | None, error: str | None = None):
    invoices = invoicing.invoices_of(org_id(), period) if period else []
    runs = audit.entries_for(org_id(), ("invoice_run", period.audit_id), limit=10) if period else []
    return render_template(
        "invoices/list.html",
        period_text=period_text,
        period=period,
        error=error,
        invoices=invoices,
        totals=invoicing.totals_by_currency(invoices),
        runs=runs,
    )


@bp.get("/")
def index():
    """The invoices of a period (last month unless ?period=YYYY-MM), and the Run button."""
    org = current_organization()
    text = request.args.get("period")
    if text is None:
        period = invoicing.default_period(org)
        return _list_page(period.label, period)
    try:
        period = invoicing.parse_period(text, org)
    except BadPeriod as error:
        return _list_page(text, None, str(error)), 400
    return _list_page(period.label, period)


@bp.post("/run")
def run():
    """Run the period: make or update its invoices, then show them."""
    org = current_organization()
    text = request.form.get("period", "")
    try:
        period = invoicing.parse_period(text, org)
    except BadPeriod as error:
        return _list_page(text, None, str(error)), 400
    result = invoicing.run(org.id, period, current_user)
    flash(result.summary, "success")
    for warning in result.warnings[:20]:
        flash(warning, "warning")
    if len(result.warnings) > 20:
        flash(f"… and {len(result.warnings) - 20} more; see the run's log.", "warning")
    return redirect(url_for("invoices.index", period=period.label), 303)


@bp.get("/<int:invoice_id>")
def view(invoice_id: int):
    """One invoice, laid out to print (or save as PDF from the browser's print dialog)."""
    invoice = Invoice.get_in_org_or_404(invoice_id, org_id())
    return render_template(
        "invoices/view.html", invoice=invoice, period=invoicing.period_of(invoice)
    )


@bp.get("/print")
def print_all():
    """Every invoice of a period, one per printed page."""
    org = current_organization()
    text = request.args.get("period", "")
    try:
        period = invoicing.parse_period(text, org)
    except BadPeriod as error:
        return _list_page(text, None, str(error)), 400
    return render_template(
        "invoices/print.html", invoices=invoicing.invoices_of(org.id, period), period=period
    )
