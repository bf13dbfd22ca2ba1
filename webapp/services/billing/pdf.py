"""An invoice (or credit note) as a PDF, built with fpdf2 and an embedded Unicode font, so
that every name and currency sign prints on any machine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF

from webapp.models import Invoice, Organization
from webapp.services.billing import proration

FONTS = Path(__file__).resolve().parents[2] / "data" / "fonts"


def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


def render(invoice: Invoice) -> bytes:
    """The invoice as it was issued (a draft is marked DRAFT and has no number)."""
    from webapp.extensions import db
    from webapp.services.invoicing import Period

    organization = db.session.get(Organization, invoice.organization_id)
    locale = organization.language or "en"
    period = Period.parse(invoice.period)
    title = "Credit note" if invoice.is_credit_note else "Invoice"
    pdf = FPDF(format="A4")
    pdf.set_title(f"{title} {invoice.number or 'draft'}")
    pdf.set_author(invoice.seller_name or organization.name)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("DejaVu", "B", 16)
    heading = f"{title} {invoice.number}" if invoice.number else f"{title} — DRAFT"
    pdf.cell(width, 9, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    seller = invoice.seller_name or organization.name
    seller_address = invoice.seller_address or organization.billing_address
    pdf.multi_cell(width / 2, 5, "\n".join(filter(None, [seller, seller_address])))
    pdf.ln(3)

    details = [
        ("Period", f"{period.title}"),
        (
            "Issued",
            format_date(invoice.issued_at, "medium", locale=locale) if invoice.issued_at else "—",
        ),
        (
            "Due",
            format_date(invoice.due_date, "medium", locale=locale) if invoice.due_date else "—",
        ),
        ("Currency", invoice.currency),
    ]
    for label, value in details:
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(25, 5, label)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(width - 25, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(width, 5, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    buyer = invoice.buyer_name or invoice.account.name
    buyer_address = invoice.buyer_address or invoice.account.billing_address
    lines = [buyer, buyer_address]
    if invoice.sub_customer is not None:
        lines.append(f"Separate invoice for your sub-customer {invoice.sub_customer.name}.")
    pdf.multi_cell(width, 5, "\n".join(filter(None, lines)))
    pdf.ln(4)

    columns = [(width - 75, "Description", "L"), (15, "Qty", "R"), (30, "Unit price", "R")]
    columns.append((30, "Amount", "R"))
    pdf.set_font("DejaVu", "B", 9)
    for w, label, align in columns:
        pdf.cell(w, 6, label, border="B", align=align)
    pdf.ln()
    pdf.set_font("DejaVu", "", 9)
    for line in invoice.lines:
        values = [
            line.description,
            str(line.quantity),
            _money(line.unit_price, invoice.currency, locale),
            _money(line.amount, invoice.currency, locale),
        ]
        for (w, _label, align), value in zip(columns, values, strict=True):
            pdf.cell(w, 6, value, align=align)
        pdf.ln()
    pdf.ln(2)
    totals = [
        ("Net", invoice.net_total),
        (f"Tax ({invoice.tax_rate.normalize():f} %)", invoice.tax_total),
        ("Total", invoice.total),
    ]
    for label, amount in totals:
        pdf.set_font("DejaVu", "B" if label == "Total" else "", 10)
        pdf.cell(width - 30, 6, label, align="R")
        pdf.cell(
            30,
            6,
            _money(amount, invoice.currency, locale),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(width, 4, proration.RULE)
    return bytes(pdf.output())
