"""Back Ordering on the tenant reseller page: check, confirm, activate; events; lite upgrade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Account, DomainEvent, Organization, Product, TenantReseller, utcnow
from webapp.scoping import org_id, require_distributor
from webapp.services import backordering, lite_upgrade

bp = Blueprint("backordering", __name__, url_prefix="/tenant-resellers/<int:tenant_id>")


@bp.before_request
def distributor_only():
    require_distributor()


def _tenant(tenant_id: int) -> TenantReseller:
    return TenantReseller.get_in_org_or_404(tenant_id, org_id())


EVENT_LABELS = {
    "subscription.created": "New subscription",
    "subscription.updated": "Quantity change",
    "subscription.cancelled": "Cancellation",
}


@dataclass
class EventRow:
    """One event as people read it: who, what, how much, and how long it has waited."""

    event: DomainEvent
    label: str
    customer: str
    product: str
    quantity: int | None
    unit_price: Decimal | None
    currency: str
    waiting_seconds: float | None  # for an event not Processed yet

    @property
    def can_retry(self) -> bool:
        return self.event.status in ("Pending", "Failed")


def _events(tenant: TenantReseller) -> list[EventRow]:
    """The latest events with names (two lookups for the whole page, not one per row)."""
    if tenant.tenant_organization_id is None:
        return []
    org = tenant.tenant_organization_id
    events = db.session.scalars(
        select(DomainEvent)
        .where(DomainEvent.organization_id == org)
        .order_by(DomainEvent.id.desc())
        .limit(200)
    ).all()
    product_ids = {e.payload.get("product_id") for e in events} - {None}
    account_ids = {e.payload.get("account_id") for e in events} - {None}
    products = dict(
        db.session.execute(
            select(Product.id, Product.name).where(
                Product.organization_id == org, Product.id.in_(product_ids)
            )
        ).all()
    )
    accounts = dict(
        db.session.execute(
            select(Account.id, Account.name).where(
                Account.organization_id == org, Account.id.in_(account_ids)
            )
        ).all()
    )
    now = utcnow()
    return [
        EventRow(
            event=e,
            label=EVENT_LABELS.get(e.kind, e.kind),
            customer=accounts.get(e.payload.get("account_id"), "—"),
            product=products.get(e.payload.get("product_id"), "—"),
            quantity=e.payload.get("quantity"),
            unit_price=_decimal(e.payload.get("unit_price")),
            currency=e.payload.get("currency", ""),
            waiting_seconds=_age(now, e.created_at) if e.status != "Processed" else None,
        )
        for e in events
    ]


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _age(now: datetime, since: datetime) -> float:
    return max((now - since).total_seconds(), 0.0)


@bp.get("/back-ordering")
def index(tenant_id: int):
    """The Back Ordering tab: state, what activation would do, and propagated events."""
    tenant = _tenant(tenant_id)
    tenant_org = (
        db.session.get(Organization, tenant.tenant_organization_id)
        if tenant.tenant_organization_id
        else None
    )
    check = backordering.precheck(tenant) if tenant.tenant_organization_id else None
    return render_template(
        "tenants/view.html",
        tab="back_ordering",
        tenant=tenant,
        tenant_org=tenant_org,
        admin=None,
        language_names={},
        check=check,
        events=_events(tenant),
        can_upgrade=lite_upgrade.can_upgrade(tenant),
    )


def _confirm_page(tenant: TenantReseller, upgrade: bool, error: str = "", status: int = 200):
    check = backordering.precheck(tenant) if tenant.tenant_organization_id else None
    return render_template(
        "backordering/confirm.html", tenant=tenant, check=check, upgrade=upgrade, error=error
    ), status


@bp.get("/back-ordering/activate")
def confirm(tenant_id: int):
    """The confirmation page: activation is irreversible, so say exactly what will happen."""
    return _confirm_page(_tenant(tenant_id), upgrade=False)


@bp.post("/back-ordering/activate")
def activate(tenant_id: int):
    """Queue the activation of Back Ordering after the confirmation."""
    tenant = _tenant(tenant_id)
    if request.form.get("confirm") != "yes":
        return _confirm_page(
            tenant, False, "Tick the box to confirm: activation cannot be undone.", 400
        )
    try:
        launched = backordering.start_activation(tenant, current_user)
    except backordering.BackOrderingRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("backordering.index", tenant_id=tenant.id), code=303)
    flash(
        "Back Ordering activation is queued: customers are copied, back ordering switched on, "
        "then the reseller's earlier sales propagated. You can leave this page.",
        "success",
    )
    return redirect(url_for("processes.view", process_id=launched.process.id), code=303)


@bp.post("/back-ordering/events/<int:event_id>/retry")
def retry(tenant_id: int, event_id: int):
    """Queue an event that is not processed yet (failed, or pending for too long) again."""
    tenant = _tenant(tenant_id)
    event = db.session.get(DomainEvent, event_id)
    if event is None or event.organization_id != tenant.tenant_organization_id:
        abort(404)
    if event.status not in ("Pending", "Failed"):
        flash("Only an event that is not processed yet can be retried.", "warning")
    else:
        backordering.retry_event(event)
        flash("The event is queued again.", "success")
    return redirect(url_for("backordering.index", tenant_id=tenant.id), code=303)


@bp.get("/upgrade-lite")
def confirm_upgrade(tenant_id: int):
    """The upgrade ends with back ordering on, for good: the same confirmation as activation."""
    return _confirm_page(_tenant(tenant_id), upgrade=True)


@bp.post("/upgrade-lite")
def upgrade_lite(tenant_id: int):
    """Start the upgrade of a lite reseller (a queued process) after the confirmation."""
    tenant = _tenant(tenant_id)
    if request.form.get("confirm") != "yes":
        return _confirm_page(
            tenant, True, "Tick the box to confirm: activation cannot be undone.", 400
        )
    try:
        process = lite_upgrade.start(tenant, current_user)
    except lite_upgrade.UpgradeRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)
    flash(
        "The upgrade is queued: customers, then their subscriptions, then back-ordering.", "success"
    )
    return redirect(url_for("processes.view", process_id=process.id), code=303)
