"""The kinds of process. The value is what the `process.kind` column stores."""

from __future__ import annotations

from enum import StrEnum


class ProcessKind(StrEnum):
    CREATION = "create_tenant_reseller"
    UPDATE = "update_tenant"
    LITE_UPGRADE = "upgrade_lite"
    BACK_ORDERING_ACTIVATION = "activate_back_ordering"
    PRICE_MARKUP = "price_markup"
    CURRENCY_CHANGE = "currency_change"
    INVOICE_RUN = "invoice_run"
    INVOICE_ISSUE = "invoice_issue"
    BILLING_REPAIR = "billing_repair"
    PRICE_LIST_COPY = "price_list_copy"
    TENANT_PURGE = "purge_tenant"
    PLATFORM_SYNC = "platform_sync"

    @property
    def label(self) -> str:
        """How the Processes tab's Kind filter names it."""
        return KIND_LABELS[self]


KIND_LABELS = {
    ProcessKind.CREATION: "Create Tenant Reseller",
    ProcessKind.UPDATE: "Update Tenant",
    ProcessKind.LITE_UPGRADE: "Upgrade lite reseller",
    ProcessKind.BACK_ORDERING_ACTIVATION: "Activate back ordering",
    ProcessKind.PRICE_MARKUP: "Price list markup",
    ProcessKind.CURRENCY_CHANGE: "Currency change",
    ProcessKind.INVOICE_RUN: "Invoice run",
    ProcessKind.INVOICE_ISSUE: "Issue invoices",
    ProcessKind.BILLING_REPAIR: "Billing repair",
    ProcessKind.PRICE_LIST_COPY: "Price list copy",
    ProcessKind.TENANT_PURGE: "Purge tenant reseller",
    ProcessKind.PLATFORM_SYNC: "Sync with a provisioning platform",
}
