"""Invoices (distributor only): a month's drafts and issued invoices, the run and the issuing
(each a queued process), one invoice and its PDF, the reconciliation and its repair, and the
billing settings printed on every invoice. A tenant's users get 404 on every route."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_currency
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from webapp.extensions import db
from webapp.listing import csv_response, stream, wants_csv
from webapp.models import Invoice, Process
from webapp.numbers import parse_int
from webapp.scoping import current_organization, org_id, require_admin, require_distributor
from webapp.services import audit, invoicing
from webapp.services.billing import pdf, proration, reconciliation, runs
from webapp.services.invoicing import BadPeriod, Period
from webapp.services.processes import ProcessKind, ProcessRefused

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
    return {
        "unit_price": unit_price,
        "period_range": period_range,
        "proration_rule": proration.RULE,
    }


def _period_from(text: str | None) -> tuple[Period | None, str, str | None]:
    """(period, text shown in the field, error) for ?period= (last month when absent)."""
    org = current_organization()
    if text is None:
        period = invoicing.default_period(org)
        return period, period.label, None
    try:
        return invoicing.parse_period(text, org), text, None
    except BadPeriod as error:
        return None, text, str(error)


def _latest(kind: ProcessKind, period: Period) -> Process | None:
    return db.session.scalar(
        Process.in_org(org_id())
        .where(Process.kind == kind, Process.lock_key == f"invoices:{org_id()}:{period.label}")
        .order_by(Process.id.desc())
        .limit(1)
    )


def _list_page(period: Period | None, period_text: str, error: str | None = None):
    invoices = invoicing.invoices_of(org_id(), period) if period else []
    drafts = [i for i in invoices if i.is_draft]
    issued = [i for i in invoices if not i.is_draft]
    return render_template(
        "invoices/list.html",
        period_text=period_text,
        period=period,
        error=error,
        drafts=drafts,
        issued=issued,
        draft_totals=invoicing.totals_by_currency(drafts),
        issued_totals=invoicing.totals_by_currency(issued),
        last_run=_latest(ProcessKind.INVOICE_RUN, period) if period else None,
        last_issue=_latest(ProcessKind.INVOICE_ISSUE, period) if period else None,
        runs=audit.entries_for(org_id(), ("invoice_run", period.audit_id), limit=10)
        if period
        else [],
    )


@bp.get("/")
def index():
    """A closed month's drafts and issued invoices (last month unless ?period=YYYY-MM)."""
    period, text, error = _period_from(request.args.get("period"))
    if period is not None and wants_csv():
        return _invoices_csv(period)
    return _list_page(period, text, error), (400 if error else 200)


def _invoices_csv(period: Period):
    """The month's drafts and issued invoices, streamed, in the order of the page."""
    return csv_response(
        f"invoices-{period.label}.csv",
        ["Number", "Status", "Kind", "Reseller", "Invoice for", "Net", "Tax", "Total"]
        + ["Currency", "Issued", "Due"],
        stream(invoicing.invoices_of_stmt(org_id(), period)),
        lambda i: [
            i.number or "",
            i.status,
            i.kind,
            i.account.name,
            i.sub_customer.name if i.sub_customer else "Consolidated",
            i.net_total,
            i.tax_total,
            i.total,
            i.currency,
            i.issued_at.isoformat(timespec="seconds") if i.issued_at else "",
            i.due_date.isoformat() if i.due_date else "",
        ],
    )


@bp.post("/run")
def run():
    """Queue the invoice run of a closed month: drafts for what is still to bill."""
    period, text, error = _period_from(request.form.get("period", ""))
    if error:
        return _list_page(None, text, error), 400
    try:
        launched = runs.start_run(current_organization(), period, current_user)
    except ProcessRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("invoices.index", period=period.label), 303)
    flash(
        f"The invoice run of {period.title} is queued: it makes drafts, which you check and "
        "then issue. Issued invoices are never changed.",
        "success",
    )
    return redirect(url_for("processes.view", process_id=launched.process.id), 303)


@bp.post("/issue")
def issue():
    """Queue the issuing of a month's drafts (refused by its first task while the
    reconciliation shows differences)."""
    period, text, error = _period_from(request.form.get("period", ""))
    if error:
        return _list_page(None, text, error), 400
    if not invoicing.drafts_of(org_id(), period):
        flash(f"{period.title} has no drafts to issue: run the invoices first.", "warning")
        return redirect(url_for("invoices.index", period=period.label), 303)
    try:
        launched = runs.start_issue(current_organization(), period, current_user)
    except ProcessRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("invoices.index", period=period.label), 303)
    flash(
        f"Issuing the drafts of {period.title} is queued: after a last reconciliation they get "
        "their numbers and are emailed to each reseller's billing contact.",
        "success",
    )
    return redirect(url_for("processes.view", process_id=launched.process.id), 303)


@bp.get("/<int:invoice_id>")
def view(invoice_id: int):
    """One invoice or credit note (a draft until issued), with its PDF."""
    invoice = Invoice.get_in_org_or_404(invoice_id, org_id())
    return render_template(
        "invoices/view.html", invoice=invoice, period=invoicing.period_of(invoice)
    )


@bp.get("/<int:invoice_id>.pdf")
def pdf_file(invoice_id: int):
    """The invoice as a PDF (what the reseller's billing contact receives)."""
    invoice = Invoice.get_in_org_or_404(invoice_id, org_id())
    name = invoice.number or f"draft-{invoice.id}"
    return Response(
        pdf.render(invoice),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@bp.get("/print")
def print_all():
    """Every invoice of a period, one per printed page."""
    period, text, error = _period_from(request.args.get("period", ""))
    if error:
        return _list_page(None, text, error), 400
    return render_template(
        "invoices/print.html", invoices=invoicing.invoices_of(org_id(), period), period=period
    )


# --- Reconciliation ---------------------------------------------------------------------------


@bp.get("/reconciliation")
def reconciliation_page():
    """Every paid subscription of every tenant reseller against its copy, and every copy
    against a closed month's invoices: zero differences expected."""
    period, text, error = _period_from(request.args.get("period"))
    report = reconciliation.reconcile(org_id(), period) if period else None
    return render_template(
        "invoices/reconciliation.html", report=report, period=period, period_text=text, error=error
    ), (400 if error else 200)


@bp.post("/reconciliation/repair")
def repair():
    """Queue the repair of every difference the reconciliation shows now."""
    period, text, error = _period_from(request.form.get("period", ""))
    if error:
        abort(400)
    report = reconciliation.reconcile(org_id(), period)
    if report.ok:
        flash("There is nothing to repair: the reconciliation shows no differences.", "info")
        return redirect(url_for("invoices.reconciliation_page", period=period.label), 303)
    try:
        launched = runs.start_repair(current_organization(), report, current_user)
    except ProcessRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("invoices.reconciliation_page", period=period.label), 303)
    flash(f"The repair of {len(report.differences)} difference(s) is queued.", "success")
    return redirect(url_for("processes.view", process_id=launched.process.id), 303)


# --- Billing settings -------------------------------------------------------------------------


def _read_settings(form) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    values = {"billing_address": (form.get("billing_address") or "").strip()}
    try:
        rate = Decimal((form.get("tax_rate") or "").strip().replace(",", "."))
        if not Decimal(0) <= rate <= Decimal(100) or -rate.as_tuple().exponent > 4:
            raise InvalidOperation
        values["tax_rate"] = rate
    except InvalidOperation:
        errors["tax_rate"] = "Enter a tax rate from 0 to 100 (percent), for example 24."
    days = (form.get("payment_terms_days") or "").strip()
    if parse_int(days, 0, 365) is not None:
        values["payment_terms_days"] = int(days)
    else:
        errors["payment_terms_days"] = "Enter the days to pay from 0 to 365, for example 30."
    if len(values["billing_address"]) > 1000:
        errors["billing_address"] = "The address is too long (1,000 characters at most)."
    return values, errors


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """What every invoice says about the seller: address, tax rate, payment terms (admins)."""
    require_admin()
    org = current_organization()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _read_settings(request.form)
        if not errors:
            before = {k: str(getattr(org, k)) for k in values}
            after = {k: str(v) for k, v in values.items()}
            if before != after:
                for key, value in values.items():
                    setattr(org, key, value)
                audit.record(
                    organization_id=org.id,
                    actor=current_user,
                    action="organization.billing_settings",
                    entity_type="organization",
                    entity_id=org.id,
                    summary="Billing settings changed",
                    before=before,
                    after=after,
                )
                db.session.commit()
            flash("Billing settings saved. They apply to drafts made from now on.", "success")
            return redirect(url_for("invoices.settings"), 303)
    return render_template("invoices/settings.html", org=org, form=request.form, errors=errors), (
        400 if errors else 200
    )
