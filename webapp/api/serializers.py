"""Rows as the API's JSON objects (the shapes the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import url_for

from webapp.models import (
    Account,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Subscription,
    TenantReseller,
)
from webapp.services.pricing import to_currency_precision
from webapp.services.processes.serializer import client_id_of
from webapp.services.readiness import PriceListCheck, Readiness


def when(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, or null."""
    return moment.isoformat() if moment is not None else None


def price_list_json(check: PriceListCheck) -> dict[str, Any]:
    return {
        "id": check.price_list.id,
        "name": check.price_list.name,
        "currency": check.price_list.currency,
        "product_count": check.product_count,
        "ready": check.ready,
        "missing_syncs": [p.platform.name for p in check.missing_syncs],
    }


def readiness_json(check: Readiness) -> dict[str, Any]:
    """The preparation checklist: ready, what fails and why, and the usable price lists."""
    failures = [
        {"key": item.key, "label": item.label, "reason": item.reason} for item in check.failures
    ]
    if check.tenant_reseller is not None:
        failures.insert(
            0,
            {
                "key": "tenant_reseller",
                "label": "Not a tenant reseller yet",
                "reason": "The account already is a tenant reseller "
                f"(id {check.tenant_reseller.id}).",
            },
        )
    chosen = check.chosen
    return {
        "ready": check.ready,
        "failures": failures,
        "checks": [
            {"key": i.key, "label": i.label, "passed": i.passed, "reason": i.reason}
            for i in check.items
        ],
        "default_price_list_id": chosen.price_list.id if chosen and chosen.ready else None,
        "eligible_price_lists": [price_list_json(c) for c in check.eligible_price_lists],
        "ready_price_lists": [price_list_json(c) for c in check.ready_price_lists],
    }


def account_json(account: Account, check: Readiness) -> dict[str, Any]:
    tenant = check.tenant_reseller
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "kind": account.kind_label,
        "is_reseller": account.is_reseller,
        "is_lite_reseller": account.is_lite_reseller,
        "enabled_for_ordering": account.enabled_for_ordering,
        "billing_currency": account.billing_currency,
        "tenant_reseller_id": tenant.id if tenant else None,
        "created_at": when(account.created_at),
        "readiness": readiness_json(check),
        "links": {"self": url_for("api.account", account_id=account.id)},
    }


def tenant_json(tenant: TenantReseller) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "account_id": tenant.account_id,
        "account_name": tenant.account.name,
        "status": tenant.status,
        "client_id": client_id_of(tenant),
        "tenant_organization_id": tenant.tenant_organization_id,
        "price_list_id": tenant.price_list_id,
        "edition": tenant.edition,
        "language": tenant.language,
        "timezone": tenant.timezone,
        "date_format": tenant.date_format,
        "separate_invoices": tenant.separate_invoices,
        "admin_username": tenant.admin_username,
        "admin_email": tenant.admin_email,
        "was_lite_reseller": tenant.was_lite_reseller,
        "back_ordering_active": tenant.back_ordering_active,
        "created_at": when(tenant.created_at),
        "links": {
            "self": url_for("api.tenant_reseller", tenant_id=tenant.id),
            "account": url_for("api.account", account_id=tenant.account_id),
            "processes": url_for("api.processes", tenant_reseller_id=tenant.id),
        },
    }


# --- orders, subscriptions, invoices, reconciliation --------------------------------------


def plain(amount: Decimal) -> str:
    """Every significant decimal and none more, never in exponent form (10, not 1E+1)."""
    return format(amount.normalize(), "f")


def decimal_text(amount: Decimal, currency: str) -> str:
    """An amount as a decimal string in its currency's precision (JPY 0, EUR 2, KWD 3)."""
    return str(to_currency_precision(amount, currency))


def unit_price_text(amount: Decimal, currency: str) -> str:
    """A unit price with every decimal it has, and at least the currency's precision."""
    rounded = to_currency_precision(amount, currency)
    return str(rounded) if rounded == amount else plain(amount)


def order_line_json(line: OrderLine, order: Order) -> dict[str, Any]:
    product = line.product
    return {
        "id": line.id,
        "product_id": product.id,
        "product_name": product.name,
        "sku": product.sku,
        "quantity": abs(line.quantity),
        "quantity_delta": line.quantity if order.kind == "Change" else None,
        "unit_price": unit_price_text(line.unit_price, order.currency),
        "amount": decimal_text(line.unit_price * line.quantity, order.currency),
        "subscription_id": line.subscription_id,
    }


def order_json(order: Order, with_lines: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order.id,
        "number": order.number,
        "kind": order.kind,
        "status": order.status,
        "account_id": order.account_id,
        "account_name": order.account.name,
        "currency": order.currency,
        "total": decimal_text(order.total, order.currency),
        "managed_by_reseller": order.managed_by_reseller,
        "created_at": when(order.created_at),
        "links": {
            "self": url_for("api.order", order_id=order.id),
            "account": url_for("api.account", account_id=order.account_id),
        },
    }
    if with_lines:
        body["lines"] = [order_line_json(line, order) for line in order.lines]
    return body


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "account_id": sub.account_id,
        "account_name": sub.account.name,
        "product_id": sub.product_id,
        "product_name": sub.product.name,
        "sku": sub.product.sku,
        "quantity": sub.quantity,
        "unit_price": unit_price_text(sub.unit_price, sub.currency),
        "period_total": decimal_text(sub.period_total, sub.currency),
        "currency": sub.currency,
        "billing_period": sub.billing_period,
        "status": sub.status,
        "managed_by_reseller": sub.managed_by_reseller,
        "created_at": when(sub.created_at),
        "links": {
            "self": url_for("api.subscription", subscription_id=sub.id),
            "account": url_for("api.account", account_id=sub.account_id),
        },
    }


def invoice_line_json(line: InvoiceLine, currency: str) -> dict[str, Any]:
    return {
        "id": line.id,
        "subscription_id": line.subscription_id,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": unit_price_text(line.unit_price, currency),
        "quantity_days": line.quantity_days,
        "days_in_period": line.days_in_period,
        "amount": decimal_text(line.amount, currency),
    }


def invoice_json(invoice: Invoice, with_lines: bool = True) -> dict[str, Any]:
    currency = invoice.currency
    body: dict[str, Any] = {
        "id": invoice.id,
        "number": invoice.number,
        "state": invoice.status,
        "kind": invoice.kind,
        "period": invoice.period,
        "account_id": invoice.account_id,
        "sub_customer_id": invoice.sub_customer_id,
        "seller": {"name": invoice.seller_name, "address": invoice.seller_address},
        "buyer": {
            "name": invoice.buyer_name or invoice.account.name,
            "address": invoice.buyer_address,
            "email": invoice.buyer_email,
        },
        "currency": currency,
        "net": decimal_text(invoice.net_total, currency),
        "tax_rate": plain(invoice.tax_rate),
        "tax": decimal_text(invoice.tax_total, currency),
        "gross": decimal_text(invoice.total, currency),
        "issued_at": when(invoice.issued_at),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "created_at": when(invoice.created_at),
        "links": {
            "self": url_for("api.invoice", invoice_id=invoice.id),
            "account": url_for("api.account", account_id=invoice.account_id),
        },
    }
    if with_lines:
        body["lines"] = [invoice_line_json(line, currency) for line in invoice.lines]
    return body
