"""Accounts: list with search and filters, the account view with its readiness panel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    ProvisioningPlatform,
    SyncStatus,
    utcnow,
)
from webapp.scoping import org_id
from webapp.services import audit, readiness

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

FILTERS = {"all": "All accounts", "resellers": "Resellers", "ready": "Ready to become tenant"}


@bp.get("/")
def index():
    """Accounts of my organization, searchable, filterable by reseller and readiness."""
    query = request.args.get("q", "").strip()
    kind = request.args.get("filter", "all")
    if kind not in FILTERS:
        kind = "all"
    stmt = Account.in_org(org_id()).order_by(Account.name)
    if query:
        stmt = stmt.where(Account.name.ilike(f"%{query}%"))
    if kind in ("resellers", "ready"):
        stmt = stmt.where(Account.is_reseller | Account.is_lite_reseller)
    accounts = db.session.scalars(stmt).all()
    checks = {a.id: readiness.evaluate(a) for a in accounts if a.can_become_tenant}
    if kind == "ready":
        accounts = [a for a in accounts if checks[a.id].ready]
    context = {
        "accounts": accounts,
        "checks": checks,
        "q": query,
        "filter": kind,
        "filters": FILTERS,
    }
    if request.headers.get("HX-Request"):
        return render_block("accounts/list.html", "results", **context)
    return render_template("accounts/list.html", **context)


def _view_context(account: Account) -> dict:
    price_list_id = request.args.get("price_list_id", type=int)
    platforms = db.session.scalars(select(ProvisioningPlatform).order_by(ProvisioningPlatform.name))
    syncs = {s.platform_id: s for s in account.syncs}
    return {
        "account": account,
        "check": readiness.evaluate(account, price_list_id),
        "platforms": list(platforms),
        "syncs": syncs,
        "logs": audit.entries_for(org_id(), ("account", account.id)),
    }


@bp.get("/<int:account_id>")
def view(account_id: int):
    """Details, provisioning sync per platform, the readiness panel, and the logs."""
    account = Account.get_in_org_or_404(account_id, org_id())
    return render_template("accounts/view.html", **_view_context(account))


@bp.get("/<int:account_id>/readiness")
def readiness_panel(account_id: int):
    """The readiness panel alone, e.g. for another chosen price list (htmx)."""
    account = Account.get_in_org_or_404(account_id, org_id())
    return render_block("accounts/view.html", "live", **_view_context(account))


def _live_response(account: Account):
    """htmx gets the updated live region; a browser without JavaScript gets a redirect."""
    if request.headers.get("HX-Request"):
        return render_block("accounts/view.html", "live", **_view_context(account))
    return redirect(url_for("accounts.view", account_id=account.id))


@bp.post("/<int:account_id>/ordering")
def set_ordering(account_id: int):
    """Switch "enabled for ordering"."""
    account = Account.get_in_org_or_404(account_id, org_id())
    enabled = request.form.get("enabled") == "1"
    if account.enabled_for_ordering != enabled:
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="account.update",
            entity_type="account",
            entity_id=account.id,
            summary=f"Enabled for ordering: {'yes' if enabled else 'no'}",
            before={"enabled_for_ordering": account.enabled_for_ordering},
            after={"enabled_for_ordering": enabled},
        )
        account.enabled_for_ordering = enabled
        db.session.commit()
    if not request.headers.get("HX-Request"):
        flash(
            f"{account.name} is {'now' if enabled else 'no longer'} enabled for ordering.",
            "success",
        )
    return _live_response(account)


@bp.post("/<int:account_id>/sync")
def record_sync(account_id: int):
    """Record the account's sync status on one provisioning platform."""
    account = Account.get_in_org_or_404(account_id, org_id())
    platform = db.session.get(ProvisioningPlatform, request.form.get("platform_id", type=int) or 0)
    if platform is None:
        abort(400)
    synced = request.form.get("status") == "synced"
    reference = request.form.get("external_reference", "").strip()[:120]
    sync = db.session.scalar(
        select(AccountPlatformSync).where(
            AccountPlatformSync.account_id == account.id,
            AccountPlatformSync.platform_id == platform.id,
            AccountPlatformSync.organization_id == org_id(),
        )
    )
    before = (
        {"status": sync.status, "external_reference": sync.external_reference} if sync else None
    )
    if sync is None:
        sync = AccountPlatformSync(
            organization_id=org_id(), account_id=account.id, platform_id=platform.id
        )
        db.session.add(sync)
    sync.status = SyncStatus.SYNCED_AS_RESELLER if synced else SyncStatus.NOT_SYNCED
    sync.external_reference = reference
    sync.synced_at = utcnow() if synced else None
    audit.record(
        organization_id=org_id(),
        actor=current_user,
        action="account.platform_sync",
        entity_type="account",
        entity_id=account.id,
        summary=f"{platform.name}: {sync.status}",
        before=before,
        after={"status": sync.status, "external_reference": reference},
    )
    db.session.commit()
    if not request.headers.get("HX-Request"):
        flash(f"{platform.name}: {sync.status}.", "success")
    return _live_response(account)
