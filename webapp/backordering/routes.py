"""Back Ordering on the tenant reseller page: check, confirm, activate; events; lite upgrade."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from jobs.backordering import retry_event
from webapp.extensions import db
from webapp.models import DomainEvent, Organization, TenantReseller
from webapp.scoping import org_id, require_distributor
from webapp.services import backordering, lite_upgrade

bp = Blueprint("backordering", __name__, url_prefix="/tenant-resellers/<int:tenant_id>")


@bp.before_request
def distributor_only():
    require_distributor()


def _tenant(tenant_id: int) -> TenantReseller:
    return TenantReseller.get_in_org_or_404(tenant_id, org_id())


def _events(tenant: TenantReseller):
    if tenant.tenant_organization_id is None:
        return []
    return db.session.scalars(
        select(DomainEvent)
        .where(DomainEvent.organization_id == tenant.tenant_organization_id)
        .order_by(DomainEvent.id.desc())
        .limit(200)
    ).all()


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


@bp.get("/back-ordering/activate")
def confirm(tenant_id: int):
    """The confirmation page: activation is irreversible, so say exactly what will happen."""
    tenant = _tenant(tenant_id)
    check = backordering.precheck(tenant) if tenant.tenant_organization_id else None
    return render_template("backordering/confirm.html", tenant=tenant, check=check)


@bp.post("/back-ordering/activate")
def activate(tenant_id: int):
    """Activate Back Ordering after the confirmation."""
    tenant = _tenant(tenant_id)
    if request.form.get("confirm") != "yes":
        check = backordering.precheck(tenant) if tenant.tenant_organization_id else None
        return render_template(
            "backordering/confirm.html",
            tenant=tenant,
            check=check,
            error="Tick the box to confirm: activation cannot be undone.",
        ), 400
    try:
        copied = backordering.activate(tenant, current_user)
    except backordering.BackOrderingRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("backordering.index", tenant_id=tenant.id), code=303)
    flash(
        "Back Ordering is active."
        + (f" {len(copied)} account(s) were copied down first." if copied else ""),
        "success",
    )
    return redirect(url_for("backordering.index", tenant_id=tenant.id), code=303)


@bp.post("/back-ordering/events/<int:event_id>/retry")
def retry(tenant_id: int, event_id: int):
    """Queue a failed back-ordering event again."""
    tenant = _tenant(tenant_id)
    event = db.session.get(DomainEvent, event_id)
    if event is None or event.organization_id != tenant.tenant_organization_id:
        abort(404)
    if event.status != "Failed":
        flash("Only a failed event can be retried.", "warning")
    else:
        retry_event(event)
        flash("The event is queued again.", "success")
    return redirect(url_for("backordering.index", tenant_id=tenant.id), code=303)


@bp.post("/upgrade-lite")
def upgrade_lite(tenant_id: int):
    """Start the upgrade of a lite reseller (a queued process)."""
    tenant = _tenant(tenant_id)
    try:
        process = lite_upgrade.start(tenant, current_user)
    except lite_upgrade.UpgradeRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)
    flash(
        "The upgrade is queued: customers, then their subscriptions, then back-ordering.", "success"
    )
    return redirect(url_for("processes.view", process_id=process.id), code=303)
