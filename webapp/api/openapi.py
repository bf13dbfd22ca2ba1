"""The OpenAPI 3.1 document of /api/v1, built from the same constants the views check."""

from __future__ import annotations

from functools import cache
from typing import Any

from webapp.api import problems
from webapp.api.idempotency import MAX_KEY_LENGTH
from webapp.models import (
    Edition,
    InvoiceKind,
    InvoiceStatus,
    ProcessStatus,
    SubscriptionStatus,
    TaskStatus,
    TenantStatus,
)
from webapp.services import regional
from webapp.services.password_rules import MIN_LENGTH as MIN_PASSWORD
from webapp.services.processes.kinds import ProcessKind

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50

PROBLEM_MIMETYPE = problems.PROBLEM_MIMETYPE


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _any_case(*words: str) -> str:
    """A pattern matching each word in any case (JSON Schema patterns have no flags)."""

    def letters(word: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)

    return "^(?:" + "|".join(letters(w) for w in words) + ")$"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _problem(description: str, schema: str = "Problem", headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_MIMETYPE: {"schema": _ref(schema)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _ok(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE_TIME = {"type": "string", "format": "date-time"}
LINK = {"type": "string", "description": "A path on this server."}
DECIMAL = {
    "type": "string",
    "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
    "description": "A decimal number as a string (exact, no float rounding).",
}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
MONTH_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"
ORDER_KINDS = ("New", "Change", "Cancellation")

# Responses every authenticated operation may give.
COMMON_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "default": {"$ref": "#/components/responses/Error"},
}


def _paged(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": False,
    }


def _schemas() -> dict[str, Any]:
    price_list = {
        "type": "object",
        "required": ["id", "name", "currency", "product_count", "ready", "missing_syncs"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "product_count": {"type": "integer", "minimum": 0},
            "ready": {
                "type": "boolean",
                "description": "Eligible, and the account is synced on every platform that "
                "needs it.",
            },
            "missing_syncs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Platforms where the account must still be synced as reseller.",
            },
        },
        "additionalProperties": False,
    }
    failure = {
        "type": "object",
        "required": ["key", "label", "reason"],
        "properties": {
            "key": {
                "type": "string",
                "description": "reseller, ordering, price_list, sync or tenant_reseller.",
            },
            "label": {"type": "string"},
            "reason": {"type": "string"},
        },
        "additionalProperties": False,
    }
    check = {
        "type": "object",
        "required": ["key", "label", "passed", "reason"],
        "properties": {
            "key": {"type": "string"},
            "label": {"type": "string"},
            "passed": {"type": "boolean"},
            "reason": {"type": "string"},
        },
        "additionalProperties": False,
    }
    readiness = {
        "type": "object",
        "description": "The preparation checklist, computed live.",
        "required": [
            "ready",
            "failures",
            "checks",
            "default_price_list_id",
            "eligible_price_lists",
            "ready_price_lists",
        ],
        "properties": {
            "ready": {"type": "boolean"},
            "failures": {"type": "array", "items": _ref("ReadinessFailure")},
            "checks": {"type": "array", "items": _ref("ReadinessCheck")},
            "default_price_list_id": _nullable(ID),
            "eligible_price_lists": {"type": "array", "items": _ref("PriceListReadiness")},
            "ready_price_lists": {"type": "array", "items": _ref("PriceListReadiness")},
        },
        "additionalProperties": False,
    }
    account = {
        "type": "object",
        "required": [
            "id",
            "name",
            "email",
            "kind",
            "is_reseller",
            "is_lite_reseller",
            "enabled_for_ordering",
            "billing_currency",
            "tenant_reseller_id",
            "created_at",
            "readiness",
            "links",
        ],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "email": {"type": "string"},
            "kind": {"type": "string", "enum": ["Customer", "Reseller", "Lite reseller"]},
            "is_reseller": {"type": "boolean"},
            "is_lite_reseller": {"type": "boolean"},
            "enabled_for_ordering": {"type": "boolean"},
            "billing_currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "tenant_reseller_id": _nullable(ID),
            "created_at": DATE_TIME,
            "readiness": _ref("Readiness"),
            "links": {
                "type": "object",
                "required": ["self"],
                "properties": {"self": LINK},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    tenant = {
        "type": "object",
        "required": [
            "id",
            "account_id",
            "account_name",
            "status",
            "client_id",
            "tenant_organization_id",
            "price_list_id",
            "edition",
            "language",
            "timezone",
            "date_format",
            "separate_invoices",
            "admin_username",
            "admin_email",
            "was_lite_reseller",
            "back_ordering_active",
            "created_at",
            "links",
        ],
        "properties": {
            "id": ID,
            "account_id": ID,
            "account_name": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in TenantStatus]},
            "client_id": _nullable({"type": "string"}),
            "tenant_organization_id": _nullable(ID),
            "price_list_id": ID,
            "edition": {"type": "string"},
            "language": {"type": "string"},
            "timezone": {"type": "string"},
            "date_format": {"type": "string"},
            "separate_invoices": {"type": "boolean"},
            "admin_username": {"type": "string"},
            "admin_email": {"type": "string"},
            "was_lite_reseller": {"type": "boolean"},
            "back_ordering_active": {"type": "boolean"},
            "created_at": DATE_TIME,
            "links": {
                "type": "object",
                "required": ["self", "account", "processes"],
                "properties": {"self": LINK, "account": LINK, "processes": LINK},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    task = {
        "type": "object",
        "required": [
            "position",
            "name",
            "step",
            "status",
            "items_done",
            "items_total",
            "started_at",
            "finished_at",
            "duration_seconds",
            "message",
        ],
        "properties": {
            "position": {"type": "integer", "minimum": 1},
            "name": {"type": "string"},
            "step": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
            "items_done": {"type": "integer", "minimum": 0},
            "items_total": {"type": "integer", "minimum": 0},
            "started_at": _nullable(DATE_TIME),
            "finished_at": _nullable(DATE_TIME),
            "duration_seconds": _nullable({"type": "number", "minimum": 0}),
            "message": {"type": "string"},
        },
        "additionalProperties": False,
    }
    process_properties = {
        "id": ID,
        "kind": {"type": "string", "enum": [k.value for k in ProcessKind]},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in ProcessStatus]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "finished": {
            "type": "boolean",
            "description": "Completed, Failed or Cancelled: stop polling.",
        },
        "tenant_reseller_id": _nullable(ID),
        "client_id": _nullable({"type": "string"}),
        "message": {"type": "string"},
        "created_at": DATE_TIME,
        "started_at": _nullable(DATE_TIME),
        "finished_at": _nullable(DATE_TIME),
        "links": {
            "type": "object",
            "required": ["self"],
            "properties": {"self": LINK, "tenant_reseller": LINK},
            "additionalProperties": False,
        },
    }
    process_required = list(process_properties)
    process_summary = {
        "type": "object",
        "required": process_required,
        "properties": process_properties,
        "additionalProperties": False,
    }
    process = {
        "type": "object",
        "required": [*process_required, "estimated_seconds_remaining", "tasks"],
        "properties": {
            **process_properties,
            "estimated_seconds_remaining": _nullable(
                {
                    "type": "number",
                    "minimum": 0,
                    "description": "While unfinished: each task weighed by its items and by "
                    "how long the same step took before.",
                }
            ),
            "tasks": {"type": "array", "items": _ref("Task")},
        },
        "additionalProperties": False,
    }
    create = {
        "type": "object",
        "required": [
            "account_id",
            "price_list_id",
            "edition",
            "language",
            "timezone",
            "date_format",
            "admin_username",
            "admin_email",
            "admin_password",
        ],
        "properties": {
            "account_id": {**ID, "description": "A ready reseller account."},
            "price_list_id": {
                **ID,
                "description": "One of the account's ready price lists; the tenant's "
                "products are copied from it with its retail prices as cost prices.",
            },
            "edition": {
                "type": "string",
                "pattern": _any_case(*(e.value for e in Edition)),
                "description": "Basic or Premium, in any case (basic, BASIC, Basic).",
            },
            "language": {"type": "string", "enum": list(regional.LANGUAGE_CODES)},
            "timezone": {"type": "string", "enum": regional.timezones()},
            "date_format": {"type": "string", "enum": list(regional.DATE_FORMATS)},
            "separate_invoices": {"type": "boolean", "default": False},
            "admin_username": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._@-]{3,80}$",
                "description": "The tenant administrator's username.",
            },
            "admin_email": {"type": "string", "format": "email", "maxLength": 254},
            "admin_password": {
                "type": "string",
                "minLength": MIN_PASSWORD,
                "maxLength": 256,
                # A NUL character is refused in every request (400), passwords included.
                "pattern": "^[^\\u0000]*$",
                "writeOnly": True,
                "description": f"At least {MIN_PASSWORD} characters, not one of the 10,000 "
                "most common passwords, not the username. Only its argon2id hash is kept.",
            },
        },
        "additionalProperties": False,
    }
    accepted = {
        "type": "object",
        "required": ["process_id", "tenant_reseller_id", "status", "message", "links"],
        "properties": {
            "process_id": ID,
            "tenant_reseller_id": ID,
            "status": {"type": "string", "enum": [s.value for s in ProcessStatus]},
            "message": {
                "type": "string",
                "description": "Empty, or why the process waits (the queue is unreachable; "
                "it starts by itself when the queue is back).",
            },
            "links": {
                "type": "object",
                "required": ["process", "tenant_reseller"],
                "properties": {"process": LINK, "tenant_reseller": LINK},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    problem = {
        "type": "object",
        "description": "RFC 9457 problem details. Extension members appear with some types: "
        "`errors` (validation-error: field → message), `reasons` (account-not-ready), "
        "`tenant_reseller_id` and `links` (already-a-tenant-reseller).",
        "required": ["type", "title", "status", "detail", "instance"],
        "properties": {
            "type": {
                "type": "string",
                "description": "about:blank for plain HTTP errors, otherwise one of: "
                + ", ".join(
                    problems.TYPE_PREFIX + t
                    for t in (
                        "validation-error",
                        "account-not-ready",
                        "already-a-tenant-reseller",
                        "idempotency-key-reused",
                        "invalid-token",
                        "distributor-only",
                    )
                ),
            },
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "tenant_reseller_id": ID,
            "links": {"type": "object", "additionalProperties": LINK},
        },
    }
    return {
        "Problem": problem,
        "PriceListReadiness": price_list,
        "ReadinessFailure": failure,
        "ReadinessCheck": check,
        "Readiness": readiness,
        "Account": account,
        "AccountPage": _paged("Account"),
        "TenantReseller": tenant,
        "TenantResellerPage": _paged("TenantReseller"),
        "Task": task,
        "ProcessSummary": process_summary,
        "Process": process,
        "ProcessPage": _paged("ProcessSummary"),
        "CreateTenantReseller": create,
        "CreationAccepted": accepted,
        **_commerce_schemas(),
    }


def _commerce_schemas() -> dict[str, Any]:
    """Orders, subscriptions, invoices and the reconciliation."""
    links = {
        "type": "object",
        "required": ["self", "account"],
        "properties": {"self": LINK, "account": LINK},
        "additionalProperties": False,
    }
    order_line = {
        "type": "object",
        "required": [
            "id",
            "product_id",
            "product_name",
            "sku",
            "quantity",
            "quantity_delta",
            "unit_price",
            "amount",
            "subscription_id",
        ],
        "properties": {
            "id": ID,
            "product_id": ID,
            "product_name": {"type": "string"},
            "sku": {"type": "string"},
            "quantity": {
                "type": "integer",
                "minimum": 0,
                "description": "Units ordered (New), changed (Change) or cancelled (Cancellation).",
            },
            "quantity_delta": _nullable(
                {
                    "type": "integer",
                    "description": "For a Change: the quantity added (positive) or removed "
                    "(negative); null for New and Cancellation.",
                }
            ),
            "unit_price": DECIMAL,
            "amount": {
                **DECIMAL,
                "description": "unit_price × the signed quantity, in the currency's "
                "precision: negative for a cancellation or a reduction.",
            },
            "subscription_id": _nullable(ID),
        },
        "additionalProperties": False,
    }
    order_properties = {
        "id": ID,
        "number": {"type": "string"},
        "kind": {"type": "string", "enum": list(ORDER_KINDS)},
        "status": {"type": "string"},
        "account_id": ID,
        "account_name": {"type": "string"},
        "currency": CURRENCY,
        "total": DECIMAL,
        "managed_by_reseller": {
            "type": "boolean",
            "description": "Copied up from a tenant reseller's BSS by back-ordering (read-only).",
        },
        "created_at": DATE_TIME,
        "links": links,
        "lines": {"type": "array", "items": _ref("OrderLine")},
    }
    order = {
        "type": "object",
        "required": list(order_properties),
        "properties": order_properties,
        "additionalProperties": False,
    }
    subscription_properties = {
        "id": ID,
        "account_id": ID,
        "account_name": {"type": "string"},
        "product_id": ID,
        "product_name": {"type": "string"},
        "sku": {"type": "string"},
        "quantity": {"type": "integer"},
        "unit_price": DECIMAL,
        "period_total": {**DECIMAL, "description": "unit_price × quantity, per period."},
        "currency": CURRENCY,
        "billing_period": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in SubscriptionStatus]},
        "managed_by_reseller": {"type": "boolean"},
        "created_at": DATE_TIME,
        "links": links,
    }
    subscription = {
        "type": "object",
        "required": list(subscription_properties),
        "properties": subscription_properties,
        "additionalProperties": False,
    }
    invoice_line = {
        "type": "object",
        "required": [
            "id",
            "subscription_id",
            "description",
            "quantity",
            "unit_price",
            "quantity_days",
            "days_in_period",
            "amount",
        ],
        "properties": {
            "id": ID,
            "subscription_id": _nullable(ID),
            "description": {"type": "string"},
            "quantity": {"type": "integer"},
            "unit_price": {**DECIMAL, "description": "Per month."},
            "quantity_days": {"type": "integer"},
            "days_in_period": {"type": "integer", "minimum": 0},
            "amount": {
                **DECIMAL,
                "description": "Net: unit_price × quantity_days / days_in_period, in the "
                "currency's precision.",
            },
        },
        "additionalProperties": False,
    }
    party = {"type": "string"}
    invoice_properties = {
        "id": ID,
        "number": _nullable(
            {"type": "string", "description": "Assigned when issued; null for a draft."}
        ),
        "state": {"type": "string", "enum": [s.value for s in InvoiceStatus]},
        "kind": {"type": "string", "enum": [k.value for k in InvoiceKind]},
        "period": {"type": "string", "pattern": MONTH_PATTERN},
        "account_id": ID,
        "sub_customer_id": _nullable(ID),
        "seller": {
            "type": "object",
            "required": ["name", "address"],
            "properties": {"name": party, "address": party},
            "additionalProperties": False,
        },
        "buyer": {
            "type": "object",
            "required": ["name", "address", "email"],
            "properties": {"name": party, "address": party, "email": party},
            "additionalProperties": False,
        },
        "currency": CURRENCY,
        "net": DECIMAL,
        "tax_rate": {**DECIMAL, "description": "Percent, e.g. 24."},
        "tax": DECIMAL,
        "gross": {**DECIMAL, "description": "net + tax."},
        "issued_at": _nullable(DATE_TIME),
        "due_date": _nullable({"type": "string", "format": "date"}),
        "created_at": DATE_TIME,
        "links": links,
        "lines": {"type": "array", "items": _ref("InvoiceLine")},
    }
    invoice = {
        "type": "object",
        "required": list(invoice_properties),
        "properties": invoice_properties,
        "additionalProperties": False,
    }
    text = {"type": "string"}
    difference = {
        "type": "object",
        "required": [
            "kind",
            "tenant_reseller_id",
            "reseller",
            "message",
            "subscription_id",
            "copy_id",
            "period",
            "expected",
            "actual",
            "repair",
        ],
        "properties": {
            "kind": {
                "type": "string",
                "description": "missing_copy, product, quantity, status, price, currency or "
                "invoice.",
            },
            "tenant_reseller_id": _nullable(ID),
            "reseller": text,
            "message": text,
            "subscription_id": _nullable({**ID, "description": "In the tenant's BSS."}),
            "copy_id": _nullable({**ID, "description": "In your BSS."}),
            "period": _nullable(text),
            "expected": text,
            "actual": text,
            "repair": {"type": "string", "description": "What the repair process does."},
        },
        "additionalProperties": False,
    }
    report = {
        "type": "object",
        "required": [
            "period",
            "subscriptions_checked",
            "invoice_lines_checked",
            "differences",
            "ok",
        ],
        "properties": {
            "period": _nullable({"type": "string", "pattern": MONTH_PATTERN}),
            "subscriptions_checked": {"type": "integer", "minimum": 0},
            "invoice_lines_checked": {"type": "integer", "minimum": 0},
            "differences": {"type": "array", "items": _ref("ReconciliationDifference")},
            "ok": {"type": "boolean", "description": "No differences."},
        },
        "additionalProperties": False,
    }
    return {
        "OrderLine": order_line,
        "Order": order,
        "OrderPage": _paged("Order"),
        "Subscription": subscription,
        "SubscriptionPage": _paged("Subscription"),
        "InvoiceLine": invoice_line,
        "Invoice": invoice,
        "InvoicePage": _paged("Invoice"),
        "ReconciliationDifference": difference,
        "Reconciliation": report,
    }


def _page_parameters() -> list[dict[str, Any]]:
    return [
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        },
        {
            "name": "per_page",
            "in": "query",
            "required": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PER_PAGE,
                "default": DEFAULT_PER_PAGE,
            },
        },
    ]


def _id_parameter(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id (another organization's ids are 404).",
        "schema": ID,
    }


def _paths() -> dict[str, Any]:
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    bad_query = {"400": _problem("A query parameter is not valid.")}
    return {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            }
        },
        "/api/v1/accounts": {
            "get": {
                "operationId": "listAccounts",
                "summary": "Accounts with their readiness",
                "description": "Every account of your organization, by name, each with the "
                "live preparation checklist for becoming a tenant reseller.",
                "parameters": _page_parameters(),
                "responses": {
                    "200": _ok("AccountPage", "A page of accounts."),
                    **bad_query,
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/v1/accounts/{account_id}": {
            "get": {
                "operationId": "getAccount",
                "summary": "One account with its readiness",
                "parameters": [_id_parameter("account_id", "account")],
                "responses": {
                    "200": _ok("Account", "The account."),
                    **not_found,
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/v1/tenant-resellers": {
            "get": {
                "operationId": "listTenantResellers",
                "summary": "Tenant resellers, newest first",
                "parameters": _page_parameters(),
                "responses": {
                    "200": _ok("TenantResellerPage", "A page of tenant resellers."),
                    **bad_query,
                    **COMMON_ERRORS,
                },
            },
            "post": {
                "operationId": "createTenantReseller",
                "summary": "Create a tenant reseller (queued)",
                "description": "Validates the request, re-checks the account's readiness, "
                "saves the tenant reseller with its process and queues the process. Follow "
                "it at links.process (also the Location header) until `finished`.\n\n"
                "Idempotency-Key: once a request with a key passed validation, its answer "
                "(202, 404 or 409) is stored; the same key with the same body replays it "
                "with `Idempotent-Replayed: true` and creates nothing; the same key with "
                "another body is a 409. Keys are kept for 24 hours; after that a key may be "
                "used again.",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Any unique string, e.g. a UUID (1–200 visible ASCII "
                        "characters).",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_KEY_LENGTH,
                            "pattern": "^[!-~]+$",
                        },
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CreateTenantReseller")}},
                },
                "responses": {
                    "202": {
                        "description": "Queued: the tenant reseller and its process exist.",
                        "headers": {
                            "Location": {
                                "description": "The process to poll.",
                                "required": True,
                                "schema": {"type": "string"},
                            },
                            "Idempotent-Replayed": {
                                "description": "true when this is a stored answer.",
                                "required": False,
                                "schema": {"type": "string", "enum": ["true"]},
                            },
                        },
                        "content": {"application/json": {"schema": _ref("CreationAccepted")}},
                    },
                    "400": _problem("Malformed JSON, or an invalid Idempotency-Key."),
                    "404": _problem(
                        "The account or the price list is not one of your organization's."
                    ),
                    "409": _problem(
                        "The account already is a tenant reseller (tenant_reseller_id), it "
                        "is not ready (reasons), or the Idempotency-Key was used with another "
                        "body."
                    ),
                    "413": _problem("The body is larger than 64 KiB."),
                    "415": _problem("The body is not JSON."),
                    "422": _problem("Fields are not valid: `errors` maps each to a message."),
                    **COMMON_ERRORS,
                },
            },
        },
        "/api/v1/tenant-resellers/{tenant_id}": {
            "get": {
                "operationId": "getTenantReseller",
                "summary": "One tenant reseller",
                "parameters": [_id_parameter("tenant_id", "tenant reseller")],
                "responses": {
                    "200": _ok("TenantReseller", "The tenant reseller."),
                    **not_found,
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/v1/processes": {
            "get": {
                "operationId": "listProcesses",
                "summary": "Processes, newest first",
                "parameters": [
                    *_page_parameters(),
                    {
                        "name": "tenant_reseller_id",
                        "in": "query",
                        "required": False,
                        "description": "Only this tenant reseller's processes.",
                        "schema": ID,
                    },
                ],
                "responses": {
                    "200": _ok("ProcessPage", "A page of processes with status and progress."),
                    **bad_query,
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/v1/processes/{process_id}": {
            "get": {
                "operationId": "getProcess",
                "summary": "One process with its tasks",
                "parameters": [_id_parameter("process_id", "process")],
                "responses": {
                    "200": _ok("Process", "The process and its tasks."),
                    **not_found,
                    **COMMON_ERRORS,
                },
            }
        },
        **_commerce_paths(not_found, bad_query),
    }


def _filter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _commerce_paths(not_found: dict, bad_query: dict) -> dict[str, Any]:
    by_account = _filter("account_id", "Only this account's.", ID)

    def read(operation_id, summary, schema, what, parameters, description=""):
        op = {
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": _ok(schema, what),
                **(bad_query if schema.endswith("Page") else not_found),
                **COMMON_ERRORS,
            },
        }
        if description:
            op["description"] = description
        return {"get": op}

    return {
        "/api/v1/orders": read(
            "listOrders",
            "Orders, newest first, with their lines",
            "OrderPage",
            "A page of orders.",
            [*_page_parameters(), by_account],
            "Your customers' orders and those copied up from tenant resellers by back-ordering "
            "(managed_by_reseller): New, Change (quantity_delta) or Cancellation (negative "
            "amounts).",
        ),
        "/api/v1/orders/{order_id}": read(
            "getOrder",
            "One order with its lines",
            "Order",
            "The order.",
            [_id_parameter("order_id", "order")],
        ),
        "/api/v1/subscriptions": read(
            "listSubscriptions",
            "Subscriptions, newest first",
            "SubscriptionPage",
            "A page of subscriptions.",
            [
                *_page_parameters(),
                by_account,
                _filter(
                    "status",
                    "Only subscriptions in this status.",
                    {"type": "string", "enum": [s.value for s in SubscriptionStatus]},
                ),
            ],
        ),
        "/api/v1/subscriptions/{subscription_id}": read(
            "getSubscription",
            "One subscription",
            "Subscription",
            "The subscription.",
            [_id_parameter("subscription_id", "subscription")],
        ),
        "/api/v1/invoices": read(
            "listInvoices",
            "Invoices and credit notes, newest month first",
            "InvoicePage",
            "A page of invoices with their lines.",
            [
                *_page_parameters(),
                _filter(
                    "month",
                    "Only the invoices of this month (YYYY-MM).",
                    {"type": "string", "pattern": MONTH_PATTERN},
                ),
                _filter(
                    "state",
                    "Only drafts or only issued invoices.",
                    {"type": "string", "enum": [s.value for s in InvoiceStatus]},
                ),
                by_account,
            ],
        ),
        "/api/v1/invoices/{invoice_id}": read(
            "getInvoice",
            "One invoice or credit note with its lines",
            "Invoice",
            "The invoice.",
            [_id_parameter("invoice_id", "invoice")],
        ),
        "/api/v1/reconciliation": {
            "get": {
                "operationId": "getReconciliation",
                "summary": "The reconciliation of a closed month",
                "description": "Every paid subscription of every tenant reseller with "
                "back-ordering against its copy in your BSS, and every copy against the "
                "month's invoices: the same report as the Reconciliation page and "
                "`flask billing reconcile --json`. Zero differences is the expected answer.",
                "parameters": [
                    _filter(
                        "period",
                        "A month that has ended, YYYY-MM (default: last month).",
                        {"type": "string", "pattern": MONTH_PATTERN},
                    )
                ],
                "responses": {
                    "200": _ok("Reconciliation", "The report."),
                    "400": _problem("The period is not a month that has ended."),
                    **COMMON_ERRORS,
                },
            }
        },
    }


@cache
def document() -> dict[str, Any]:
    """The whole document (built once per process: it only depends on code)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tenant Reseller BSS API",
            "version": "1.0.0",
            "description": "Create tenant resellers from ready reseller accounts and follow "
            "their creation processes; read orders, subscriptions, invoices and the "
            "billing reconciliation. Authenticate with an API token that an administrator "
            "of your organization creates under Settings › API tokens: "
            "`Authorization: Bearer <token>`. Everything is scoped to the token's "
            "organization. Errors are RFC 9457 problem details "
            "(`application/problem+json`).",
        },
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (trbss_…), shown once when created.",
                }
            },
            "schemas": _schemas(),
            "responses": {
                "Unauthorized": _problem(
                    "No token, or a wrong or revoked one.",
                    headers={
                        "WWW-Authenticate": {
                            "required": True,
                            "schema": {"type": "string", "pattern": "^Bearer "},
                        }
                    },
                ),
                "Forbidden": _problem("The token's organization may not use this API."),
                "NotFound": _problem("Not found, or it belongs to another organization."),
                "Error": _problem("Any other error, as problem details."),
            },
        },
    }
