"""Accounts: list with search and filters, create and edit, the account view with its
readiness panel (the distributor's resellers only). A tenant's accounts are its customers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.accounts.forms import AccountForm
from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    ProvisioningPlatform,
    SyncStatus,
    utcnow,
)
from webapp.numbers import parse_id
from webapp.scoping import current_organization, org_id
from webapp.services import audit, readiness

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

FILTERS = {
    "all": "All accounts",
    "resellers": "Resellers",
    "ready": "Ready to become tenant",
    "sub": "Resellers' customers",
}


def refuse_if_managed_by_reseller(account: Account) -> None:
    """Records copied up by back-ordering belong to the reseller: read-only here (only their
    Separate Invoices flag is the distributor's to set)."""
    if account.managed_by_reseller:
        abort(403)


@bp.get("/")
def index():
    """Accounts of my organization, searchable, filterable by reseller and readiness."""
    query = request.args.get("q", "").strip()
    kind = request.args.get("filter", "all")
    if kind not in FILTERS:
        kind = "all"
    distributor = current_organization().is_root
    if not distributor:
        kind = "all"  # a tenant's customers cannot become tenant resellers
    stmt = Account.in_org(org_id()).order_by(Account.name)
    if query:
        stmt = stmt.where(Account.name.ilike(f"%{query}%"))
    if kind in ("resellers", "ready"):
        stmt = stmt.where(Account.is_reseller | Account.is_lite_reseller)
    # Resellers' own customers (copied up by back-ordering, or a lite reseller's) are listed
    # on their reseller's page and under their own filter, not among the distributor's accounts.
    if kind == "sub":
        stmt = stmt.where(Account.parent_account_id.is_not(None))
    elif distributor:
        stmt = stmt.where(Account.parent_account_id.is_(None))
    accounts = db.session.scalars(stmt).all()
    checks = (
        {a.id: readiness.evaluate(a) for a in accounts if a.can_become_tenant}
        if distributor
        else {}
    )
    if kind == "ready":
        accounts = [a for a in accounts if checks[a.id].ready]
    context = {
        "accounts": accounts,
        "checks": checks,
        "q": query,
        "filter": kind,
        "filters": FILTERS,
        "distributor": distributor,
    }
    if request.headers.get("HX-Request"):
        return render_block("accounts/list.html", "results", **context)
    return render_template("accounts/list.html", **context)


def _view_context(account: Account) -> dict:
    """Provisioning sync and readiness are about turning the distributor's resellers into
    tenants: a tenant's customers (and the distributor's plain customers) show neither."""
    distributor = current_organization().is_root
    show_readiness = distributor and account.can_become_tenant
    platforms = []
    if distributor:
        platforms = list(
            db.session.scalars(select(ProvisioningPlatform).order_by(ProvisioningPlatform.name))
        )
    price_list_id = parse_id(request.args.get("price_list_id"))
    return {
        "account": account,
        "distributor": distributor,
        "check": readiness.evaluate(account, price_list_id) if show_readiness else None,
        "platforms": platforms,
        "syncs": {s.platform_id: s for s in account.syncs},
        "logs": audit.entries_for(org_id(), ("account", account.id)),
    }


ACCOUNT_FIELDS = {
    "name": "name",
    "email": "email",
    "billing_currency": "billing currency",
    "enabled_for_ordering": "enabled for ordering",
    "is_reseller": "reseller",
}


def _snapshot(account: Account, names) -> dict:
    return {name: getattr(account, name) for name in names}


def _save_account(form: AccountForm, account: Account | None):
    """Validate, write the form's fields, audit and commit; the saved account or None (the
    form then carries the messages)."""
    if not form.validate_on_submit():
        return None
    name = form.name.data.strip()
    clash = db.session.scalar(
        Account.in_org(org_id()).where(
            Account.name == name, Account.id != (account.id if account else -1)
        )
    )
    if clash is not None:
        form.name.errors = [*form.name.errors, f"You already have an account named {name}."]
        return None
    names = [n for n in ACCOUNT_FIELDS if n != "is_reseller" or form.is_reseller is not None]
    creating = account is None
    if creating:
        account = Account(organization_id=org_id(), is_reseller=False)
        db.session.add(account)
        before = None
    else:
        before = _snapshot(account, names)
    account.name = name
    account.email = (form.email.data or "").strip()
    account.billing_currency = form.billing_currency.data
    account.enabled_for_ordering = bool(form.enabled_for_ordering.data)
    if form.is_reseller is not None:
        account.is_reseller = bool(form.is_reseller.data)
    try:
        db.session.flush()
    except IntegrityError:  # the same name saved at the same moment elsewhere
        db.session.rollback()
        form.name.errors = [f"You already have an account named {name}."]
        return None
    after = _snapshot(account, names)
    changed = [n for n in names if before is None or before[n] != after[n]]
    if creating or changed:
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="account.create" if creating else "account.update",
            entity_type="account",
            entity_id=account.id,
            summary=f"Account {name} created"
            if creating
            else "Changed " + ", ".join(ACCOUNT_FIELDS[n] for n in changed),
            before={n: before[n] for n in changed} if before else None,
            after={n: after[n] for n in changed},
        )
    db.session.commit()
    return account


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A new account: a customer, or for the distributor also a reseller."""
    org = current_organization()
    form = AccountForm(distributor=org.is_root)
    if request.method == "GET":
        form.billing_currency.data = org.currency
    account = _save_account(form, None)
    if account is not None:
        flash(f"{account.name} created.", "success")
        return redirect(url_for("accounts.view", account_id=account.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/form.html", form=form, account=None), status


@bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
def edit(account_id: int):
    """Change an account's name, email, billing currency, ordering (and reseller) flags."""
    account = Account.get_in_org_or_404(account_id, org_id())
    refuse_if_managed_by_reseller(account)
    distributor = current_organization().is_root
    form = AccountForm(obj=account if request.method == "GET" else None, distributor=distributor)
    saved = _save_account(form, account)
    if saved is not None:
        flash(f"{saved.name} saved.", "success")
        return redirect(url_for("accounts.view", account_id=saved.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/form.html", form=form, account=account), status


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
    refuse_if_managed_by_reseller(account)
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
    refuse_if_managed_by_reseller(account)
    platform = db.session.get(ProvisioningPlatform, parse_id(request.form.get("platform_id")) or 0)
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


# Separate Invoices per sub-customer: back-ordering copies the tenant reseller's setting onto
# each sub-customer it copies up; staff can override it here for one sub-customer.


def _is_copied_sub_customer(account: Account) -> bool:
    return bool(account.managed_by_reseller and account.parent_account_id)


@bp.context_processor
def _sub_customer_helpers():
    def sub_customer_billing(account: Account) -> dict | None:
        """For a sub-customer copied up by back-ordering: its reseller and the reseller's own
        Separate Invoices setting (used for sub-customers copied from now on)."""
        if not current_organization().is_root or not _is_copied_sub_customer(account):
            return None
        from webapp.models import TenantReseller

        reseller = db.session.scalar(
            Account.in_org(org_id()).where(Account.id == account.parent_account_id)
        )
        tenant = db.session.scalar(
            TenantReseller.in_org(org_id()).where(
                TenantReseller.account_id == account.parent_account_id
            )
        )
        return {"reseller": reseller, "tenant": tenant}

    return {"sub_customer_billing": sub_customer_billing}


@bp.post("/<int:account_id>/separate-invoices")
def set_separate_invoices(account_id: int):
    """Switch Separate Invoices for one sub-customer copied up by back-ordering: it overrides
    the reseller's setting for this sub-customer only, from the next invoice run."""
    if not current_organization().is_root:
        abort(404)
    account = Account.get_in_org_or_404(account_id, org_id())
    if not _is_copied_sub_customer(account):
        abort(404)
    enabled = request.form.get("enabled") == "1"
    if account.separate_invoices != enabled:
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="account.separate_invoices",
            entity_type="account",
            entity_id=account.id,
            summary=(
                f"Separate invoices: {'yes' if enabled else 'no'} "
                "(overrides the reseller's setting for this sub-customer only)"
            ),
            before={"separate_invoices": account.separate_invoices},
            after={"separate_invoices": enabled},
        )
        account.separate_invoices = enabled
        db.session.commit()
    if not request.headers.get("HX-Request"):
        flash(
            f"{account.name} is {'now' if enabled else 'no longer'} billed on a separate "
            "invoice from the next invoice run.",
            "success",
        )
    return _live_response(account)
