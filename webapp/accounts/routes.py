"""Accounts: list with search and filters, create and edit, the account view with its
readiness panel (the distributor's resellers only). A tenant's accounts are its customers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.accounts.forms import AccountForm
from webapp.extensions import db
from webapp.listing import Listing, ListPage, Sorts, chunks, csv_response, paginate, wants_csv
from webapp.models import (
    Account,
    AccountPlatformSync,
    ProvisioningPlatform,
    SandboxAdapterSetting,
    SyncStatus,
)
from webapp.numbers import parse_id
from webapp.scoping import current_organization, org_id
from webapp.services import audit, currency_guard, provisioning, readiness
from webapp.services.processes import ProcessRefused
from webapp.services.processes.lifecycle import QUEUE_DOWN_MESSAGE

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

# "all" (the default) was labelled "All accounts" but left out the resellers' customers: it
# is the distributor's own customers and resellers; "everything" is every account.
FILTERS = {
    "all": "Your customers and resellers",
    "resellers": "Resellers",
    "ready": "Ready to become tenant",
    "sub": "Resellers' customers",
    "everything": "All accounts",
}


def refuse_if_managed_by_reseller(account: Account) -> None:
    """Records copied up by back-ordering belong to the reseller: read-only here (only their
    Separate Invoices flag is the distributor's to set)."""
    if account.managed_by_reseller:
        abort(403)


ACCOUNT_SORTS = Sorts(
    {
        "name": ("Name", (Account.name,)),
        "type": ("Type", (Account.is_reseller, Account.is_lite_reseller)),
        "ordering": ("Enabled for ordering", (Account.enabled_for_ordering,)),
        "currency": ("Billing currency", (Account.billing_currency,)),
    },
    tie=Account.id,
)


def _readiness_label(check) -> str:
    if check is None:
        return "Not a reseller"
    if check.tenant_reseller:
        return "Tenant reseller"
    if check.ready:
        return "Ready"
    return f"Not ready: {check.failures[0].reason}"


@bp.get("/")
def index():
    """Accounts of my organization, a page at a time, sortable, searchable by name,
    filterable by reseller and readiness, exportable to CSV."""
    kind = request.args.get("filter", "all")
    if kind not in FILTERS:
        kind = "all"
    distributor = current_organization().is_root
    if not distributor:
        kind = "all"  # a tenant's customers cannot become tenant resellers
    listing = Listing.from_request(ACCOUNT_SORTS, filter="" if kind == "all" else kind)
    stmt = Account.in_org(org_id())
    if listing.q:
        stmt = stmt.where(Account.name.ilike(f"%{listing.q}%"))
    if kind in ("resellers", "ready"):
        stmt = stmt.where(Account.is_reseller | Account.is_lite_reseller)
    # Resellers' own customers (copied up by back-ordering, or a lite reseller's) are listed
    # on their reseller's page and under their own filter, not among the distributor's accounts.
    if kind == "sub":
        stmt = stmt.where(Account.parent_account_id.is_not(None))
    elif distributor and kind != "everything":
        stmt = stmt.where(Account.parent_account_id.is_(None))
    if wants_csv():
        return _accounts_csv(stmt, listing, distributor)
    if kind == "ready":
        # Readiness is computed, not stored: the resellers are checked in one batch, then
        # paged. (Resellers are few next to accounts; the batch costs a fixed 5 queries.)
        candidates = list(
            db.session.scalars(
                stmt.order_by(*ACCOUNT_SORTS.order_by(listing.sort, listing.descending))
            )
        )
        all_checks = readiness.evaluate_many(candidates)
        pagination = ListPage([a for a in candidates if all_checks[a.id].ready], listing.page)
    else:
        pagination = paginate(stmt, listing, ACCOUNT_SORTS)
        all_checks = None
    accounts = list(pagination.items)
    if not distributor:
        checks = {}
    elif all_checks is not None:
        checks = {a.id: all_checks[a.id] for a in accounts}
    else:
        checks = readiness.evaluate_many([a for a in accounts if a.can_become_tenant])
    context = {
        "accounts": accounts,
        "pagination": pagination,
        "listing": listing,
        "checks": checks,
        "q": listing.q,
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
        "sandbox": {
            s.platform_id: s
            for s in db.session.scalars(SandboxAdapterSetting.in_org(org_id()))
            if s.failures_left
        }
        if distributor
        else {},
        "sandbox_failures": provisioning.SANDBOX_FAILURES,
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


def _save_account(form: AccountForm, account: Account | None, before_commit=None):
    """Validate, write the form's fields, audit and commit; the saved account or None (the
    form then carries the messages). `before_commit(account)` adds to the same transaction
    (and may commit it itself)."""
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
    if before_commit is not None:
        before_commit(account)
    db.session.commit()
    return account


def _accounts_csv(stmt, listing: Listing, distributor: bool):
    """Every matching account, streamed; readiness checked a chunk of accounts at a time."""
    ordered = stmt.order_by(*ACCOUNT_SORTS.order_by(listing.sort, listing.descending))
    header = ["Name", "Type", "Enabled for ordering", "Billing currency"]
    if distributor:
        header.append("Tenant reseller readiness")

    def rows():
        for chunk in chunks(ordered):
            checks = (
                readiness.evaluate_many([a for a in chunk if a.can_become_tenant])
                if distributor
                else {}
            )
            for account in chunk:
                yield account, checks.get(account.id)

    def cells(row) -> list:
        account, check = row
        values = [
            account.name,
            account.kind_label,
            "Yes" if account.enabled_for_ordering else "No",
            account.billing_currency,
        ]
        if distributor:
            values.append(_readiness_label(check))
        return values

    return csv_response("accounts.csv", header, rows(), cells)


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
    tenant = currency_guard.tenant_of(account)
    new_currency = request.form.get("billing_currency", account.billing_currency)
    price_list_id = request.form.get("tenant_price_list", type=int)
    refused = (
        currency_guard.refusal(account, new_currency, price_list_id)
        if request.method == "POST"
        else None
    )
    repriced = []
    if refused:
        form.validate()
        form.billing_currency.errors = [*form.billing_currency.errors, refused]
        saved = None
    else:
        switching = tenant is not None and new_currency != account.billing_currency

        def switch(saved_account):
            repriced.append(
                currency_guard.switch_price_list(saved_account, price_list_id, current_user)
            )

        saved = _save_account(form, account, before_commit=switch if switching else None)
    if saved is not None:
        flash(f"{saved.name} saved.", "success")
        if repriced and repriced[0].process is not None:
            process = repriced[0].process
            flash(
                Markup("The tenant's cost prices are being re-priced: {}.").format(
                    Markup('<a href="{}">{}</a>').format(
                        url_for("processes.view", process_id=process.id), process.name
                    )
                ),
                "success" if repriced[0].enqueued else "warning",
            )
        return redirect(url_for("accounts.view", account_id=saved.id), 303)
    status = 400 if request.method == "POST" else 200
    price_lists = currency_guard.active_price_lists(org_id()) if tenant is not None else None
    return render_template(
        "accounts/form.html", form=form, account=account, tenant=tenant, price_lists=price_lists
    ), status


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
    """Record by hand the account's sync status on one provisioning platform: "synced"
    needs the reference the platform gave, and is marked manual."""
    account = Account.get_in_org_or_404(account_id, org_id())
    refuse_if_managed_by_reseller(account)
    platform = _platform_or_400()
    synced = request.form.get("status") == "synced"
    reference = request.form.get("external_reference", "").strip()[:120]
    if synced and not reference:
        return _sync_refused(
            account,
            f"{platform.name}: type the reseller's reference on {platform.name} to record a "
            "manual sync, or use Sync now.",
        )
    if synced:
        provisioning.record(account, platform, reference, provisioning.MANUAL, current_user)
        status = SyncStatus.SYNCED_AS_RESELLER
    else:
        sync = db.session.scalar(
            select(AccountPlatformSync).where(
                AccountPlatformSync.account_id == account.id,
                AccountPlatformSync.platform_id == platform.id,
                AccountPlatformSync.organization_id == org_id(),
            )
        )
        status = SyncStatus.NOT_SYNCED
        if sync is not None:
            audit.record(
                organization_id=org_id(),
                actor=current_user,
                action="account.platform_sync",
                entity_type="account",
                entity_id=account.id,
                summary=f"{platform.name}: {status}",
                before={"status": sync.status, "external_reference": sync.external_reference},
                after={"status": status, "external_reference": ""},
            )
            sync.status, sync.external_reference, sync.synced_at = status, "", None
            sync.synced_by_id = None
    db.session.commit()
    if not request.headers.get("HX-Request"):
        how = " (recorded manually)" if synced else ""
        flash(f"{platform.name}: {status}{how}.", "success")
    return _live_response(account)


def _platform_or_400() -> ProvisioningPlatform:
    platform = db.session.get(ProvisioningPlatform, parse_id(request.form.get("platform_id")) or 0)
    if platform is None:
        abort(400)
    return platform


def _sync_refused(account: Account, message: str):
    """htmx swaps only successful answers: the message goes into the live region (200);
    without JavaScript it is flashed on the account page."""
    if request.headers.get("HX-Request"):
        context = _view_context(account)
        return render_block("accounts/view.html", "live", sync_error=message, **context)
    flash(message, "error")
    return redirect(url_for("accounts.view", account_id=account.id), 303)


@bp.post("/<int:account_id>/sync/start")
def start_sync(account_id: int):
    """Sync now: queue the platform adapter's sync of this account; follow it on its page."""
    account = Account.get_in_org_or_404(account_id, org_id())
    refuse_if_managed_by_reseller(account)
    platform = _platform_or_400()
    try:
        launched = provisioning.start_sync(account, platform, current_user)
    except ProcessRefused as refused:
        return _sync_refused(account, str(refused))
    flash(
        f"Sync of {account.name} with {platform.name} queued."
        if launched.enqueued
        else QUEUE_DOWN_MESSAGE,
        "success" if launched.enqueued else "warning",
    )
    return redirect(url_for("processes.view", process_id=launched.process.id), 303)


@bp.post("/<int:account_id>/sandbox")
def sandbox_settings(account_id: int):
    """The sandbox adapter's settings: make the next syncs on a platform fail."""
    account = Account.get_in_org_or_404(account_id, org_id())
    platform = _platform_or_400()
    failure = request.form.get("failure", "")
    if failure not in ("", *provisioning.SANDBOX_FAILURES):
        abort(400)
    times = request.form.get("times", type=int) or 0
    provisioning.set_sandbox_failure(org_id(), platform.id, failure, min(times, 10), current_user)
    flash(
        f"Sandbox {platform.name}: the next {times} sync(s) fail ({failure})."
        if failure and times
        else f"Sandbox {platform.name}: syncs succeed.",
        "success",
    )
    return redirect(url_for("accounts.view", account_id=account.id) + "#sync", 303)


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
