"""Rows as the API's JSON objects (the shapes the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from webapp.models import Account, TenantReseller
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
