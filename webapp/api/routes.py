"""The JSON API: /api/v1, authenticated by an organization's API token, scoped to it.

Every error is `application/problem+json` (RFC 9457); the OpenAPI 3.1 document at
/api/v1/openapi.json describes every operation."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, g, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import RequestRedirect

from webapp.api import idempotency, openapi, problems, serializers, tokens
from webapp.api.openapi import DEFAULT_PER_PAGE, MAX_ID, MAX_PAGE, MAX_PER_PAGE
from webapp.api.problems import ApiProblem, json_response
from webapp.extensions import db
from webapp.models import (
    Account,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    Organization,
    PriceList,
    Process,
    Subscription,
    SubscriptionStatus,
    TenantReseller,
    User,
)
from webapp.services import creation, invoicing, readiness
from webapp.services.billing import reconciliation
from webapp.services.processes.lifecycle import QUEUE_DOWN_MESSAGE
from webapp.services.processes.serializer import process_json

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

PUBLIC_ENDPOINTS = {"api.openapi"}
MAX_BODY_BYTES = 64 * 1024
REALM = 'Bearer realm="api"'


def organization_id() -> int:
    """The organization of the token that authenticated this request."""
    return g.api_organization_id


# --- authentication and errors ------------------------------------------------------------


@bp.before_request
def authenticate():
    """Every operation but the OpenAPI document needs a live token of the distributor."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return None
    raw = tokens.bearer_token(request.headers.get("Authorization"))
    if raw is None:
        raise ApiProblem(401, headers={"WWW-Authenticate": REALM})
    token = tokens.authenticate(raw)
    if token is None:
        raise ApiProblem(
            401,
            "Invalid token",
            "The API token is not valid: it is wrong, or it was revoked.",
            problems.INVALID_TOKEN,
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    org = db.session.get(Organization, token.organization_id)
    if org is None or not org.is_root:
        # Only the distributor has tenant resellers; a tenant's token must not make any.
        raise ApiProblem(
            403,
            "Not available to this organization",
            "The API is available to the distributor's organization only.",
            problems.DISTRIBUTOR_ONLY,
        )
    g.api_token_id = token.id
    g.api_organization_id = token.organization_id
    g.api_actor_id = token.created_by_id
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(ApiProblem)
def api_problem(error: ApiProblem):
    return error.response()


def http_error(error: HTTPException):
    return problems.from_http_exception(error)


# Registered per status code: Flask prefers a handler for the exact code, and the app has
# HTML ones for 400, 403, 404 and 405 that would otherwise win over a generic one here.
bp.register_error_handler(HTTPException, http_error)
for _code in default_exceptions:
    bp.register_error_handler(_code, http_error)


@bp.before_app_request
def api_routing_errors():
    """404 and 405 under /api/ come from routing, before any blueprint is chosen, so the
    blueprint's error handlers never see them: answer them here, as problems. Every other
    path keeps the app's HTML error pages."""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect):
        return None
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return None
    if isinstance(error, HTTPException):
        response = problems.from_http_exception(error)
        response.headers["Cache-Control"] = "no-store"
        return response
    return None


# --- request helpers -----------------------------------------------------------------------


def _int_args(spec: dict[str, tuple[int | None, int]]) -> dict[str, int | None]:
    """Whole-number query parameters: name → (default, highest allowed); the lowest is 1.
    A 400 problem names every parameter that is wrong."""
    errors, values = {}, {}
    for name, (default, high) in spec.items():
        raw = request.args.get(name)
        if raw is None:
            values[name] = default
        elif raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= high:
            values[name] = int(raw)
        else:
            errors[name] = f"Must be a whole number from 1 to {high}."
    if errors:
        raise ApiProblem(
            400,
            "Invalid query parameters",
            "; ".join(f"{k}: {v}" for k, v in errors.items()),
            problems.VALIDATION,
            errors=errors,
        )
    return values


def _page_args(**extra: tuple[int | None, int]) -> tuple[int, int, dict[str, int | None]]:
    values = _int_args(
        {"page": (1, MAX_PAGE), "per_page": (DEFAULT_PER_PAGE, MAX_PER_PAGE), **extra}
    )
    return values.pop("page"), values.pop("per_page"), values


def _page(items: list[dict], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def _id_in_range(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ApiProblem(404)
    return value


def _json_body() -> Any:
    """The parsed JSON body: 415 if it is not JSON, 413 if too large, 400 if malformed."""
    if not request.is_json:
        raise ApiProblem(415)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiProblem(413)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiProblem(413)

    def refuse_constant(name: str):
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(400, detail="The request body is not valid JSON.") from exc


# --- OpenAPI -------------------------------------------------------------------------------


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    """The OpenAPI 3.1 description of this API (public: no token needed)."""
    return json_response(openapi.document())


# --- accounts ------------------------------------------------------------------------------


@bp.get("/accounts")
def accounts():
    """The organization's accounts, each with its live readiness checklist."""
    page, per_page, _ = _page_args()
    stmt = Account.in_org(organization_id()).order_by(Account.name, Account.id)
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    checks = readiness.evaluate_many(list(rows))
    items = [serializers.account_json(a, checks[a.id]) for a in rows]
    return json_response(_page(items, page, per_page, total))


@bp.get("/accounts/<int:account_id>")
def account(account_id: int):
    row = Account.get_in_org_or_404(_id_in_range(account_id), organization_id())
    return json_response(serializers.account_json(row, readiness.evaluate(row)))


# --- tenant resellers ----------------------------------------------------------------------

# name: (JSON type, required, max length for strings)
CREATION_FIELDS: dict[str, tuple[type, bool, int]] = {
    "account_id": (int, True, 0),
    "price_list_id": (int, True, 0),
    "edition": (str, True, 20),
    "language": (str, True, 20),
    "timezone": (str, True, 64),
    "date_format": (str, True, 32),
    "separate_invoices": (bool, False, 0),
    "admin_username": (str, True, 80),
    "admin_email": (str, True, 254),
    "admin_password": (str, True, 256),
}
TYPE_MESSAGES = {
    int: "Must be a whole number from 1 to 2147483647.",
    str: "Must be a string.",
    bool: "Must be true or false.",
}


def _creation_request(body: Any) -> creation.CreationRequest:
    """The body as a CreationRequest, or a 422 problem naming every wrong field."""
    if not isinstance(body, dict):
        raise ApiProblem(
            422,
            "Your request is not valid",
            "The body must be a JSON object.",
            problems.VALIDATION,
            errors={},
        )
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in body:
        if name not in CREATION_FIELDS:
            errors[name] = "Unknown field."
    for name, (kind, required, max_length) in CREATION_FIELDS.items():
        if name not in body:
            if required:
                errors[name] = "This field is required."
            continue
        value = body[name]
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema: 7.0 is an integer
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
        else:
            ok = isinstance(value, kind)
        if not ok:
            errors[name] = TYPE_MESSAGES[kind]
        elif kind is str and len(value) > max_length:
            errors[name] = f"Use at most {max_length} characters."
        else:
            values[name] = value
    req = creation.CreationRequest(
        account_id=values.get("account_id", 0),
        price_list_id=values.get("price_list_id", 0),
        language=values.get("language", ""),
        timezone=values.get("timezone", ""),
        date_format=values.get("date_format", ""),
        edition=creation.canonical_edition(values.get("edition", "")),
        separate_invoices=values.get("separate_invoices", False),
        admin_username=values.get("admin_username", ""),
        admin_email=values.get("admin_email", ""),
        admin_password=values.get("admin_password", ""),
    )
    for name, message in creation.validate(req).items():
        errors.setdefault(name, message)
    if errors:
        raise ApiProblem(
            422,
            "Your request is not valid",
            "; ".join(f"{k}: {v}" for k, v in errors.items()),
            problems.VALIDATION,
            errors=errors,
        )
    return req


def _create(req: creation.CreationRequest) -> tuple[int, dict]:
    """Run the creation service; the status and body of the answer (202 or a problem)."""
    org_id = organization_id()
    account = db.session.scalar(Account.in_org(org_id).where(Account.id == req.account_id))
    if account is None:
        return 404, problems.problem_body(
            404, detail=f"There is no account {req.account_id} in your organization."
        )
    if (existing := creation.existing_tenant(account)) is not None:
        return 409, _already_tenant(account, existing)
    price_list = db.session.scalar(
        PriceList.in_org(org_id).where(PriceList.id == req.price_list_id)
    )
    if price_list is None:
        return 404, problems.problem_body(
            404, detail=f"There is no price list {req.price_list_id} in your organization."
        )
    actor = db.session.get(User, g.api_actor_id) if g.api_actor_id else None
    result = creation.submit(org_id, actor, req)
    if result.already_exists is not None:
        return 409, _already_tenant(account, result.already_exists)
    if not result.created:
        return 409, problems.problem_body(
            409,
            "The account is not ready",
            f"{account.name} cannot become a tenant reseller yet: " + " ".join(result.not_ready),
            problems.NOT_READY,
            reasons=result.not_ready,
        )
    process = result.process
    body = {
        "process_id": process.id,
        "tenant_reseller_id": result.tenant_reseller.id,
        "status": process.status,
        "message": "" if result.enqueued else QUEUE_DOWN_MESSAGE,
        "links": {
            "process": url_for("api.process", process_id=process.id),
            "tenant_reseller": url_for("api.tenant_reseller", tenant_id=result.tenant_reseller.id),
        },
    }
    return 202, body


def _already_tenant(account: Account, tenant: TenantReseller) -> dict:
    return problems.problem_body(
        409,
        "Already a tenant reseller",
        f"{account.name} already is a tenant reseller (id {tenant.id}).",
        problems.ALREADY_TENANT,
        tenant_reseller_id=tenant.id,
        links={"tenant_reseller": url_for("api.tenant_reseller", tenant_id=tenant.id)},
    )


def _answer(status: int, body: dict, replayed: bool = False) -> Response:
    headers = {}
    if status == 202:
        headers["Location"] = body["links"]["process"]
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if status >= 400:
        return problems.problem_response(body, headers)
    return json_response(body, status, headers)


def _replay(stored: idempotency.Stored, rhash: str) -> Response:
    if not stored.matches(rhash):
        raise ApiProblem(
            409,
            "Idempotency-Key reused",
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request.",
            problems.IDEMPOTENCY_MISMATCH,
        )
    return _answer(stored.status_code, stored.body, replayed=True)


@bp.post("/tenant-resellers")
def create_tenant_reseller():
    """Queue the creation of a tenant reseller from a ready account: 202 and the process.

    With an Idempotency-Key, the first answer (once the body was valid) is stored; the same
    key with the same body replays it, with a different body it is a 409."""
    try:
        key = idempotency.parse_key(request.headers.get("Idempotency-Key"))
    except ValueError as exc:
        raise ApiProblem(
            400,
            "Invalid Idempotency-Key",
            str(exc),
            problems.VALIDATION,
            errors={"Idempotency-Key": str(exc)},
        ) from exc
    body = _json_body()
    rhash = idempotency.request_hash(body) if key else ""
    stored = idempotency.lookup(organization_id(), key) if key else None
    if stored is not None and stored.status_code != idempotency.PENDING:
        return _replay(stored, rhash)
    req = _creation_request(body)
    if not key:
        return _answer(*_create(req))
    # Claimed before the work: a concurrent identical request waits for this one's answer
    # and replays it, instead of racing it to a 409.
    if (stored := idempotency.claim(organization_id(), key, rhash)) is not None:
        if stored.status_code == idempotency.PENDING and stored.matches(rhash):
            raise ApiProblem(
                409,
                "Request in progress",
                "A request with this Idempotency-Key is still being processed. "
                "Retry in a few seconds to get its answer.",
                problems.IDEMPOTENCY_MISMATCH,
            )
        return _replay(stored, rhash)
    try:
        status, answer = _create(req)
    except BaseException:
        idempotency.release(organization_id(), key)
        raise
    idempotency.finish(organization_id(), key, status, answer)
    return _answer(status, answer)


@bp.get("/tenant-resellers")
def tenant_resellers():
    """The organization's tenant resellers, newest first."""
    page, per_page, _ = _page_args()
    stmt = (
        TenantReseller.in_org(organization_id())
        .options(selectinload(TenantReseller.account))
        .order_by(TenantReseller.created_at.desc(), TenantReseller.id.desc())
    )
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return json_response(_page([serializers.tenant_json(t) for t in rows], page, per_page, total))


@bp.get("/tenant-resellers/<int:tenant_id>")
def tenant_reseller(tenant_id: int):
    row = TenantReseller.get_in_org_or_404(_id_in_range(tenant_id), organization_id())
    return json_response(serializers.tenant_json(row))


# --- processes -----------------------------------------------------------------------------


@bp.get("/processes")
def processes():
    """The organization's processes, newest first, with status and progress."""
    page, per_page, extra = _page_args(tenant_reseller_id=(None, MAX_ID))
    stmt = (
        Process.in_org(organization_id())
        .options(selectinload(Process.tasks))
        .order_by(Process.created_at.desc(), Process.id.desc())
    )
    if extra["tenant_reseller_id"] is not None:
        stmt = stmt.where(Process.tenant_reseller_id == extra["tenant_reseller_id"])
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return json_response(_page([process_json(p) for p in rows], page, per_page, total))


@bp.get("/processes/<int:process_id>")
def process(process_id: int):
    """One process with its tasks: poll it until `finished` is true."""
    row = Process.get_in_org_or_404(_id_in_range(process_id), organization_id())
    return json_response(process_json(row, with_tasks=True))


# --- orders, subscriptions, invoices (read) ----------------------------------------------


def _choice_arg(name: str, choices: list[str]) -> str | None:
    """An optional query parameter that must be one of `choices` (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None or raw in choices:
        return raw
    message = "Must be one of: " + ", ".join(choices) + "."
    raise ApiProblem(
        400,
        "Invalid query parameters",
        f"{name}: {message}",
        problems.VALIDATION,
        errors={name: message},
    )


def _month_arg(name: str, closed: bool = False) -> str | invoicing.Period | None:
    """An optional YYYY-MM query parameter: the text as given, or with `closed` a Period of
    a month that has ended in the organization's time zone (400 otherwise)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if closed:
            return invoicing.parse_period(raw, db.session.get(Organization, organization_id()))
        if re.fullmatch(openapi.MONTH_PATTERN, raw) is None:
            raise invoicing.BadPeriod(f"{raw[:20]!r} is not a month: use YYYY-MM, e.g. 2026-11.")
        return raw
    except invoicing.BadPeriod as error:
        raise ApiProblem(
            400,
            "Invalid query parameters",
            f"{name}: {error}",
            problems.VALIDATION,
            errors={name: str(error)},
        ) from error


@bp.get("/orders")
def orders():
    """The organization's orders, newest first, with their lines."""
    page, per_page, extra = _page_args(account_id=(None, MAX_ID))
    stmt = (
        Order.in_org(organization_id())
        .options(
            selectinload(Order.account),
            selectinload(Order.lines).selectinload(OrderLine.product),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    if extra["account_id"] is not None:
        stmt = stmt.where(Order.account_id == extra["account_id"])
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return json_response(_page([serializers.order_json(o) for o in rows], page, per_page, total))


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    row = Order.get_in_org_or_404(_id_in_range(order_id), organization_id())
    return json_response(serializers.order_json(row))


@bp.get("/subscriptions")
def subscriptions():
    """The organization's subscriptions, newest first."""
    page, per_page, extra = _page_args(account_id=(None, MAX_ID))
    status = _choice_arg("status", [s.value for s in SubscriptionStatus])
    stmt = (
        Subscription.in_org(organization_id())
        .options(selectinload(Subscription.account), selectinload(Subscription.product))
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    )
    if extra["account_id"] is not None:
        stmt = stmt.where(Subscription.account_id == extra["account_id"])
    if status is not None:
        stmt = stmt.where(Subscription.status == status)
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    items = [serializers.subscription_json(s) for s in rows]
    return json_response(_page(items, page, per_page, total))


@bp.get("/subscriptions/<int:subscription_id>")
def subscription(subscription_id: int):
    row = Subscription.get_in_org_or_404(_id_in_range(subscription_id), organization_id())
    return json_response(serializers.subscription_json(row))


@bp.get("/invoices")
def invoices():
    """The organization's invoices and credit notes, newest month first."""
    page, per_page, extra = _page_args(account_id=(None, MAX_ID))
    month = _month_arg("month")
    state = _choice_arg("state", [s.value for s in InvoiceStatus])
    stmt = (
        Invoice.in_org(organization_id())
        .options(selectinload(Invoice.account), selectinload(Invoice.lines))
        .order_by(Invoice.period.desc(), Invoice.id.desc())
    )
    if month is not None:
        stmt = stmt.where(Invoice.period == month)
    if state is not None:
        stmt = stmt.where(Invoice.status == state)
    if extra["account_id"] is not None:
        stmt = stmt.where(Invoice.account_id == extra["account_id"])
    total = _count(stmt)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return json_response(_page([serializers.invoice_json(i) for i in rows], page, per_page, total))


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    row = Invoice.get_in_org_or_404(_id_in_range(invoice_id), organization_id())
    return json_response(serializers.invoice_json(row))


@bp.get("/reconciliation")
def reconciliation_report():
    """The reconciliation (the same report as the page and `flask billing reconcile --json`)
    for a closed month, the last one by default."""
    period = _month_arg("period", closed=True)
    report = reconciliation.reconcile(organization_id(), period)
    return json_response({**report.as_json(), "ok": report.ok})
