"""The Tenant Resellers module: create, list, processes, and each tenant's tabs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.listing import Listing, Sorts, csv_response, paginate, stream, wants_csv
from webapp.models import Account, Organization, TenantReseller, User
from webapp.scoping import org_id, require_distributor
from webapp.services import (
    audit,
    catalog,
    creation,
    playbook,
    readiness,
    regional,
    tenant_lifecycle,
)
from webapp.services.processes.lifecycle import QUEUE_DOWN_MESSAGE
from webapp.services.processes.listing import ProcessFilter, process_page
from webapp.tenants.forms import CreateTenantForm, RegionalSettingsForm

bp = Blueprint("tenants", __name__)


@bp.before_request
def distributor_only():
    require_distributor()


def _link_to(tenant: TenantReseller) -> Markup:
    url = url_for("tenants.view", tenant_id=tenant.id)
    return Markup('<a href="{}">{}</a>').format(url, escape(tenant.account.name))


@bp.route("/accounts/<int:account_id>/tenant-reseller/new", methods=["GET", "POST"])
def create(account_id: int):
    """Create a Tenant Reseller: the seed's form; Save queues the creation process."""
    account = Account.get_in_org_or_404(account_id, org_id())
    if (existing := creation.existing_tenant(account)) is not None:
        flash(
            Markup("{} already is a tenant reseller: {}.").format(account.name, _link_to(existing)),
            "info",
        )
        return redirect(url_for("tenants.view", tenant_id=existing.id))
    check = readiness.evaluate(account)
    form = CreateTenantForm()
    form.set_choices(check.ready_price_lists)
    org = current_user.organization
    if request.method == "GET":
        form.language.data = org.language if regional.is_language(org.language) else "en"
        form.timezone.data = org.timezone
        form.date_format.data = org.date_format
        form.edition.data = "Basic"
        if check.chosen is not None and check.chosen.ready:
            form.price_list.data = check.chosen.price_list.id
    changed: list[str] = []
    status = 200
    offered = {c.price_list.id for c in check.ready_price_lists}
    range_list = form.price_list.data if form.price_list.data in offered else None
    chosen_range = catalog.read_range(range_list, [], [])
    if request.method == "POST":
        status = 400
        form_ok = form.validate()
        req = creation.CreationRequest(
            account_id=account.id,
            price_list_id=form.price_list.data,
            language=form.language.data or "",
            timezone=(form.timezone.data or "").strip(),
            date_format=form.date_format.data or "",
            edition=form.edition.data or "",
            separate_invoices=bool(form.separate_invoices.data),
            admin_username=form.admin_username.data or "",
            admin_email=form.admin_email.data or "",
            admin_password=form.admin_password.data or "",
            invite_admin=bool(form.admin_invite.data),
        )
        range_list = form.price_list.data if form.price_list.data in offered else None
        chosen_range = catalog.read_range(
            range_list,
            request.form.getlist("range_platforms"),
            request.form.getlist("range_categories"),
        )
        req.range_platform_ids = chosen_range.platform_ids
        req.range_categories = chosen_range.category_names
        errors = creation.validate(req)
        if chosen_range.error:
            errors["range"] = chosen_range.error
        eligible = {c.price_list.id for c in check.ready_price_lists}
        if form.price_list.data is not None and form.price_list.data not in eligible:
            errors["price_list"] = "Choose one of the eligible price lists."
        for name, message in errors.items():
            if name == "range":
                continue  # shown in the range fieldset
            field = getattr(form, name)
            if message not in field.errors:
                field.errors = [*field.errors, message]
        if form_ok and not errors:
            result = creation.submit(org_id(), current_user, req)
            if result.already_exists is not None:
                flash(
                    Markup(
                        "{} already is a tenant reseller; its creation was started once: {}."
                    ).format(account.name, _link_to(result.already_exists)),
                    "info",
                )
                return redirect(url_for("tenants.processes"), code=303)
            if result.created:
                if result.enqueued:
                    flash(
                        f"Creation of {account.name} queued. You can follow it here, or "
                        "sign out and come back later.",
                        "success",
                    )
                else:
                    flash(QUEUE_DOWN_MESSAGE, "warning")
                return redirect(url_for("tenants.processes"), code=303)
            changed = result.not_ready
            status = 409
    return (
        render_template(
            "tenants/create.html",
            account=account,
            check=check,
            form=form,
            changed=changed,
            timezones=regional.timezones(),
            range=chosen_range,
        ),
        status,
    )


@bp.get("/tenant-resellers")
def index():
    """The tenant resellers of my organization: a page at a time, sortable, searchable by
    name, account or Client ID, filterable by status, exportable to CSV."""
    from webapp.models import TenantStatus

    statuses = [s.value for s in TenantStatus]
    status = request.args.get("status", "")
    if status not in statuses:
        status = ""
    listing = Listing.from_request(TENANT_SORTS, status=status)
    stmt = (
        select(TenantReseller)
        .join(Account, Account.id == TenantReseller.account_id)
        .outerjoin(Organization, Organization.id == TenantReseller.tenant_organization_id)
        .options(
            contains_eager(TenantReseller.account),
            contains_eager(TenantReseller.tenant_organization),
        )
        .where(TenantReseller.organization_id == org_id())
    )
    if status:
        stmt = stmt.where(TenantReseller.status == status)
    if listing.q:
        like = f"%{listing.q}%"
        stmt = stmt.where(
            or_(
                Organization.name.ilike(like),
                Account.name.ilike(like),
                Organization.client_id.ilike(like.replace("-", "")),
            )
        )
    if wants_csv():
        ordered = stmt.order_by(*TENANT_SORTS.order_by(listing.sort, listing.descending))
        return csv_response(
            "tenant-resellers.csv",
            ["Name", "Account", "Edition", "Status", "Client ID", "Created"],
            stream(ordered),
            lambda t: [
                t.tenant_organization.name if t.tenant_organization else t.account.name,
                t.account.name,
                t.edition,
                t.status,
                t.tenant_organization.display_client_id if t.tenant_organization else "",
                t.created_at.isoformat(timespec="seconds"),
            ],
        )
    pagination = paginate(stmt, listing, TENANT_SORTS)
    return render_template(
        "tenants/list.html",
        tenants=pagination.items,
        pagination=pagination,
        listing=listing,
        tab="list",
        statuses=statuses,
        status=status,
        progress=playbook.progress(list(pagination.items)),
    )


TENANT_SORTS = Sorts(
    {
        "created": ("Created", (TenantReseller.created_at,)),
        "name": ("Name", (func.coalesce(Organization.name, Account.name),)),
        "account": ("Account", (Account.name,)),
        "edition": ("Edition", (TenantReseller.edition,)),
        "status": ("Status", (TenantReseller.status,)),
    },
    tie=TenantReseller.id,
    default="created",
    default_desc=True,
)


def _process_page(tenant_id: int | None = None):
    return process_page(
        org_id(), ProcessFilter.from_args(request.args), tenant_id, tenants_only=True
    )


@bp.get("/tenant-resellers/processes")
def processes():
    """The module-wide Processes tab: Process Name, Status, Progress, Creation date; live
    while any process shown is unfinished."""
    page, list_url = _process_page(), url_for("tenants.processes")
    if is_htmx():
        return render_template("tenants/_process_rows.html", page=page, list_url=list_url)
    return render_template("tenants/processes.html", page=page, list_url=list_url, tab="processes")


def _tenant_context(tenant_id: int) -> dict:
    tenant = TenantReseller.get_in_org_or_404(tenant_id, org_id())
    org = (
        db.session.get(Organization, tenant.tenant_organization_id)
        if tenant.tenant_organization_id
        else None
    )
    admin = None
    if org is not None:
        admin = db.session.scalar(
            select(User).where(
                User.organization_id == org.id, User.username == tenant.admin_username
            )
        )
    return {
        "tenant": tenant,
        "tenant_org": org,
        "admin": admin,
        "language_names": dict(regional.languages()),
        "can_restore": tenant_lifecycle.can_restore(tenant),
    }


@bp.get("/tenant-resellers/<int:tenant_id>")
def view(tenant_id: int):
    """Basic Information: Client ID, status, edition, regional settings, Separate Invoices."""
    return _basic_information(_tenant_context(tenant_id))


def _basic_information(context: dict, regional_form: RegionalSettingsForm | None = None):
    tenant = context["tenant"]
    if regional_form is None:
        regional_form = RegionalSettingsForm(formdata=None)
        regional_form.language.data = tenant.language
        regional_form.timezone.data = tenant.timezone
        regional_form.date_format.data = tenant.date_format
    latest = _process_page(tenant.id).rows[:1]
    return render_template(
        "tenants/view.html",
        tab="basic",
        latest=latest,
        regional_form=regional_form,
        timezones=regional.timezones(),
        playbook=playbook.playbook(tenant),
        **context,
    )


REGIONAL_FIELDS = ("language", "timezone", "date_format")


@bp.post("/tenant-resellers/<int:tenant_id>/regional-settings")
def set_regional_settings(tenant_id: int):
    """Language, time zone and date format after creation: the tenant's BSS and storefront
    use them at once (they are copied to its organization); audited with before and after."""
    context = _tenant_context(tenant_id)
    tenant, tenant_org = context["tenant"], context["tenant_org"]
    form = RegionalSettingsForm()
    if not form.check():
        return _basic_information(context, form), 400
    chosen = {
        "language": form.language.data,
        "timezone": form.timezone.data.strip(),
        "date_format": form.date_format.data,
    }
    before = {name: getattr(tenant, name) for name in REGIONAL_FIELDS}
    if chosen == before:
        flash("Nothing changed.", "info")
    else:
        changed = ", ".join(
            f"{name.replace('_', ' ')} {before[name]} → {chosen[name]}"
            for name in REGIONAL_FIELDS
            if before[name] != chosen[name]
        )
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="tenant_reseller.regional_settings",
            entity_type="tenant_reseller",
            entity_id=tenant.id,
            summary=f"Regional settings: {changed}",
            before=before,
            after=chosen,
        )
        for name, value in chosen.items():
            setattr(tenant, name, value)
            if tenant_org is not None:
                setattr(tenant_org, name, value)
        db.session.commit()
        flash(
            "Regional settings saved: the reseller's BSS and storefront use them from now on.",
            "success",
        )
    return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)


@bp.post("/tenant-resellers/<int:tenant_id>/separate-invoices")
def set_separate_invoices(tenant_id: int):
    """Change Separate Invoices; it applies to sub-customers copied from now on."""
    tenant = TenantReseller.get_in_org_or_404(tenant_id, org_id())
    value = request.form.get("separate_invoices") == "1"
    if value != tenant.separate_invoices:
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="tenant_reseller.update",
            entity_type="tenant_reseller",
            entity_id=tenant.id,
            summary=f"Separate Invoices: {'on' if value else 'off'}",
            before={"separate_invoices": tenant.separate_invoices},
            after={"separate_invoices": value},
        )
        tenant.separate_invoices = value
        db.session.commit()
    flash(
        f"Separate Invoices is {'on' if value else 'off'}. This applies to sub-customers "
        "copied from now on; accounts already copied keep their own setting.",
        "success",
    )
    return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)


@bp.get("/tenant-resellers/<int:tenant_id>/processes")
def tenant_processes(tenant_id: int):
    """This tenant reseller's processes."""
    context = _tenant_context(tenant_id)
    page = _process_page(tenant_id)
    list_url = url_for("tenants.tenant_processes", tenant_id=tenant_id)
    if is_htmx():
        return render_template("tenants/_process_rows.html", page=page, list_url=list_url)
    return render_template(
        "tenants/view.html", tab="processes", page=page, list_url=list_url, **context
    )


@bp.get("/tenant-resellers/<int:tenant_id>/logs")
def logs(tenant_id: int):
    """Audit records of this tenant reseller, including one per finished task."""
    context = _tenant_context(tenant_id)
    entries = audit.entries_for(org_id(), ("tenant_reseller", tenant_id), limit=500)
    return render_template("tenants/view.html", tab="logs", logs=entries, **context)


# --- Update Tenant ----------------------------------------------------------------------------


@bp.app_template_global("tenant_update_availability")
def tenant_update_availability(tenant: TenantReseller):
    """For the Update Tenant card: ("", None) when an update can start, else why not and
    the unfinished process in the way."""
    from webapp.services import tenant_update

    return tenant_update.availability(tenant)


@bp.post("/tenant-resellers/<int:tenant_id>/update")
def update_tenant(tenant_id: int):
    """Update Tenant (Full or Partial): queue the transfer of the price list's changes."""
    from webapp.services import tenant_update

    tenant = TenantReseller.get_in_org_or_404(tenant_id, org_id())
    req = tenant_update.UpdateRequest(
        mode=request.form.get("mode", ""),
        overwrite_sell_prices=request.form.get("overwrite_sell_prices") == "1",
        overwrite_names=request.form.get("overwrite_names") == "1",
    )
    if request.form.get("range_shown") == "1":
        req.range = catalog.read_range(
            tenant.price_list_id,
            request.form.getlist("range_platforms"),
            request.form.getlist("range_categories"),
        )
    result = tenant_update.start(org_id(), tenant.id, current_user, req)
    if result.process is None:
        message = Markup("{}").format(result.refused)
        if result.busy is not None:
            url = url_for("processes.view", process_id=result.busy.id)
            message += Markup(' <a href="{}">Open {}</a>.').format(url, result.busy.name)
        flash(message, "warning")
        return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)
    if result.enqueued:
        flash(
            f"{result.process.name} queued. Only the differences are transferred; you can "
            "follow it here, or leave and come back from the Processes tab.",
            "success",
        )
    else:
        flash(QUEUE_DOWN_MESSAGE, "warning")
    return redirect(url_for("processes.view", process_id=result.process.id), code=303)


# --- Lifecycle: suspend, reactivate, change edition, mark as deleted, restore ------------------

# action → (title, button, what the confirmation page says it does)
LIFECYCLE_ACTIONS = {
    "suspend": (
        "Suspend",
        "Suspend the tenant reseller",
        "Its users cannot sign in (they are told that the organization is suspended) and its "
        'storefront answers with a branded "temporarily unavailable" page. Subscriptions keep '
        "running and are invoiced; back-ordering keeps propagating its queue. You can "
        "reactivate it at any time.",
    ),
    "reactivate": (
        "Reactivate",
        "Reactivate the tenant reseller",
        "Its users can sign in again and its storefront opens again.",
    ),
    "edition": (
        "Change edition",
        "Change edition",
        "",
    ),
    "delete": (
        "Mark as deleted",
        "Mark as deleted",
        "Sign-in and the storefront are closed at once. The tenant's data is kept for the "
        "retention period and can be restored until then; after it, the data is purged.",
    ),
    "restore": (
        "Restore",
        "Restore the tenant reseller",
        "It gets back the status it had before it was marked as deleted.",
    ),
}


@bp.route("/tenant-resellers/<int:tenant_id>/lifecycle/<action>", methods=["GET", "POST"])
def lifecycle_action(tenant_id: int, action: str):
    """Confirm, then do, one lifecycle action; each is audited on the tenant's Logs tab."""
    from webapp.models import Edition

    if action not in LIFECYCLE_ACTIONS:
        abort(404)
    context = _tenant_context(tenant_id)
    tenant = context["tenant"]
    new_edition = Edition.BASIC if tenant.edition == Edition.PREMIUM else Edition.PREMIUM
    error = None
    if request.method == "POST":
        try:
            if action == "suspend":
                tenant_lifecycle.suspend(tenant, current_user)
                done = f"{tenant.account.name} is suspended."
            elif action == "reactivate":
                tenant_lifecycle.reactivate(tenant, current_user)
                done = f"{tenant.account.name} is active again."
            elif action == "edition":
                turned_off = tenant_lifecycle.change_edition(
                    tenant, current_user, request.form.get("edition", "")
                )
                done = " ".join(
                    [f"{tenant.account.name} now has the {tenant.edition} edition.", *turned_off]
                )
            elif action == "delete":
                tenant_lifecycle.mark_deleted(tenant, current_user, request.form.get("name", ""))
                done = (
                    f"{tenant.account.name} is marked as deleted. Its data is kept until "
                    f"{tenant.purge_after:%Y-%m-%d %H:%M} UTC; restore it before then if needed."
                )
            else:
                tenant_lifecycle.restore(tenant, current_user)
                done = f"{tenant.account.name} is restored: {tenant.status}."
        except tenant_lifecycle.LifecycleRefused as refused:
            db.session.rollback()
            error = str(refused)
        else:
            flash(done, "success")
            return redirect(url_for("tenants.view", tenant_id=tenant.id), code=303)
    effects = (
        tenant_lifecycle.downgrade_effects(tenant)
        if action == "edition" and new_edition == Edition.BASIC and context["tenant_org"]
        else None
    )
    title, button, text = LIFECYCLE_ACTIONS[action]
    return (
        render_template(
            "tenants/lifecycle_confirm.html",
            action=action,
            title=title,
            button=button,
            text=text,
            error=error,
            new_edition=new_edition,
            effects=effects,
            retention_days=tenant_lifecycle.retention().days,
            tab="basic",
            **context,
        ),
        400 if error else 200,
    )
