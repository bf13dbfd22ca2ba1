"""The distributor's side of products and price lists: its catalogue and the price lists its
tenant resellers are created from. Routes parse and render; webapp.services.catalog writes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.models import PriceList, PriceListItem, Process, Product, ProvisioningPlatform
from webapp.numbers import page_number
from webapp.pricelists.forms import DistributorPriceListForm, DistributorProductForm
from webapp.pricelists.routes import PAGE_SIZE, bp
from webapp.scoping import current_organization, org_id
from webapp.services import audit, catalog
from webapp.services.catalog import CatalogError
from webapp.services.pricing import AmountError, parse_price, parse_rate
from webapp.services.processes import lifecycle
from webapp.services.processes.lifecycle import QUEUE_DOWN_MESSAGE

MAX_CSV_BYTES = 5 * 1024 * 1024


def _distributor_org():
    """Pages only the distributor has look absent (404) to a tenant's staff."""
    org = current_organization()
    if not org.is_root:
        abort(404)
    return org


def _platforms():
    return db.session.scalars(select(ProvisioningPlatform).order_by(ProvisioningPlatform.name))


def _product_form(obj=None) -> DistributorProductForm:
    return DistributorProductForm(
        obj=obj, platforms=list(_platforms()), periods=catalog.BILLING_PERIODS
    )


def _product_values(form: DistributorProductForm) -> dict:
    return {
        "sku": form.sku.data.strip(),
        "name": form.name.data.strip(),
        "category": (form.category.data or "").strip(),
        "platform_id": form.platform_id.data,
        "billing_period": form.billing_period.data,
        "description": (form.description.data or "").strip(),
    }


def _sku_message(sku: str) -> str:
    return f"Another product already has the SKU {sku}: a SKU is unique in your catalogue."


# --- Products ---------------------------------------------------------------------------------


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    """A new product in the distributor's catalogue."""
    org = _distributor_org()
    form = _product_form()
    if form.validate_on_submit():
        values = _product_values(form)
        if catalog.sku_taken(org.id, values["sku"]):
            form.sku.errors = [*form.sku.errors, _sku_message(values["sku"])]
        else:
            try:
                product = catalog.create_product(org.id, current_user, values)
                db.session.commit()
            except IntegrityError:  # the same SKU saved at the same moment elsewhere
                db.session.rollback()
                form.sku.errors = [_sku_message(values["sku"])]
            else:
                flash(f"Product {product.sku} {product.name} created.", "success")
                return redirect(url_for("pricelists.products"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("pricelists/distributor_product.html", form=form, product=None), status


def edit_distributor_product(product: Product):
    """Called by pricelists.edit_product for the distributor's staff."""
    org = _distributor_org()
    form = _product_form(obj=product if request.method == "GET" else None)
    if form.validate_on_submit():
        values = _product_values(form)
        if catalog.sku_taken(org.id, values["sku"], except_id=product.id):
            form.sku.errors = [*form.sku.errors, _sku_message(values["sku"])]
        else:
            try:
                changed = catalog.update_product(product, current_user, values)
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.sku.errors = [_sku_message(values["sku"])]
            else:
                if changed:
                    flash(f"{product.sku} saved.", "success")
                else:
                    flash("Nothing to save: no field was changed.", "info")
                return redirect(url_for("pricelists.edit_product", product_id=product.id), 303)
    return render_template(
        "pricelists/distributor_product.html",
        form=form,
        product=product,
        logs=audit.entries_for(org.id, ("product", product.id), limit=20),
    ), (400 if request.method == "POST" else 200)


@bp.post("/products/<int:product_id>/retire")
def retire_product(product_id: int):
    """Retire (discontinue) a product; it is never deleted: subscriptions may use it."""
    org = _distributor_org()
    product = Product.get_in_org_or_404(product_id, org.id)
    if catalog.retire_product(product, current_user):
        db.session.commit()
        flash(
            f"{product.sku} {product.name} is retired: it stays on existing subscriptions and "
            "tenants see it as discontinued at their next update.",
            "success",
        )
    else:
        flash(f"{product.sku} was already retired.", "info")
    return redirect(url_for("pricelists.edit_product", product_id=product.id), 303)


# --- Price lists ------------------------------------------------------------------------------


def _price_list_form() -> DistributorPriceListForm:
    sources = db.session.scalars(PriceList.in_org(org_id()).order_by(PriceList.name)).all()
    return DistributorPriceListForm(sources=sources)


def new_distributor_price_list():
    """Called by pricelists.new for the distributor: any monetary ISO 4217 currency,
    optionally copied from another list with a typed exchange rate and a rounding rule."""
    org = _distributor_org()
    form = _price_list_form()
    if request.method == "GET":
        wanted = (request.args.get("currency") or "").upper()
        form.currency.data = wanted if catalog.currency_problem(wanted) is None else "EUR"
        form.name.data = request.args.get("name", "")
    source = rate = None
    valid = form.validate_on_submit()
    if request.method == "POST" and form.copy_from.data:
        source = db.session.scalar(
            PriceList.in_org(org.id).where(PriceList.id == form.copy_from.data)
        )
        if source is None:
            form.copy_from.errors = [*form.copy_from.errors, "Choose one of your price lists."]
        elif source.currency == form.currency.data and not (form.exchange_rate.data or "").strip():
            rate = None
        else:
            try:
                rate = parse_rate(form.exchange_rate.data, source.currency, form.currency.data)
            except AmountError as exc:
                form.exchange_rate.errors = [*form.exchange_rate.errors, str(exc)]
    name = (form.name.data or "").strip()
    if valid and name and db.session.scalar(PriceList.in_org(org.id).where(PriceList.name == name)):
        form.name.errors = [*form.name.errors, f"You already have a price list named {name}."]
    if (
        valid
        and not form.copy_from.errors
        and not form.exchange_rate.errors
        and not (form.name.errors)
    ):
        try:
            price_list, copied = catalog.create_price_list(
                org.id,
                current_user,
                name=name,
                currency=form.currency.data,
                active=bool(form.active.data),
                copy_from=source,
                rate=rate,
                rounding=form.rounding.data,
            )
            if isinstance(copied, Process):
                launched = lifecycle.start(copied)  # commit, then enqueue
            else:
                db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors = [f"You already have a price list named {name}."]
        else:
            if isinstance(copied, Process):
                flash(
                    f"Price list {name} created; its {copied.params['expected_items']:,} "
                    f"prices are being copied from {source.name} by a queued process."
                    + ("" if launched.enqueued else f" {QUEUE_DOWN_MESSAGE}"),
                    "success",
                )
                return redirect(url_for("processes.view", process_id=copied.id), 303)
            copied_words = f" with {copied:,} prices copied from {source.name}" if source else ""
            flash(f"Price list {name} created{copied_words}.", "success")
            return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("pricelists/distributor_new.html", form=form), status


def _distributor_list(price_list_id: int) -> PriceList:
    _distributor_org()
    return PriceList.get_in_org_or_404(price_list_id, org_id())


def distributor_view(price_list: PriceList, *, add_error: str | None = None, status=200):
    """One of the distributor's price lists: items with inline prices, add, remove, activate,
    CSV export and import."""
    query = request.values.get("q", "").strip()
    stmt = (
        select(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == price_list.id)
        .options(selectinload(PriceListItem.product).selectinload(Product.platform))
    )
    if query:
        stmt = stmt.where(Product.name.ilike(f"%{query}%") | Product.sku.ilike(f"%{query}%"))
    page = db.paginate(
        stmt.order_by(Product.name, Product.id),
        page=page_number(request.args),  # Flask-SQLAlchemy's own parse takes any size
        per_page=PAGE_SIZE,
        error_out=False,
        count=True,
    )
    return render_template(
        "pricelists/view.html",
        price_list=price_list,
        rows=[(item, item.product) for item in page.items],
        total=page.total,
        page=page.page,
        pages=max(1, page.pages),
        q=query,
        add_error=add_error,
        add_values=request.form if add_error else {},
    ), status


@bp.post("/price-lists/<int:price_list_id>/items")
def add_item(price_list_id: int):
    """Add a product (by SKU) to the list at a retail price, or change its price."""
    price_list = _distributor_list(price_list_id)
    sku = request.form.get("sku", "").strip()
    product = db.session.scalar(Product.in_org(org_id()).where(Product.sku == sku))
    if product is None:
        return distributor_view(
            price_list, add_error=f"No product has the SKU {sku!r}.", status=400
        )
    if product.discontinued:
        return distributor_view(price_list, add_error=f"{sku} is retired.", status=400)
    try:
        amount = parse_price(request.form.get("price"))
    except AmountError as exc:
        return distributor_view(price_list, add_error=str(exc), status=400)
    catalog.set_item_price(price_list, product, amount, current_user)
    db.session.commit()
    flash(f"{product.sku} is in {price_list.name} at {amount} {price_list.currency}.", "success")
    return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)


@bp.post("/price-lists/<int:price_list_id>/items/<int:item_id>")
def edit_item(price_list_id: int, item_id: int):
    """One retail price, inline: htmx gets the row back (with the message next to the
    price), a plain form a redirect."""
    price_list = _distributor_list(price_list_id)
    item = db.session.scalar(
        select(PriceListItem).where(
            PriceListItem.id == item_id, PriceListItem.price_list_id == price_list.id
        )
    )
    if item is None:
        abort(404)
    product = db.session.get(Product, item.product_id)
    raw = request.form.get("price", "")
    try:
        amount = parse_price(raw)
    except AmountError as exc:
        if is_htmx():
            return render_template(
                "pricelists/_item_row.html",
                item=item,
                product=product,
                price_list=price_list,
                error=str(exc),
                value=raw,
            )
        flash(f"{product.sku}: {exc}", "error")
        return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)
    catalog.set_item_price(price_list, product, amount, current_user)
    db.session.commit()
    if is_htmx():
        return render_template(
            "pricelists/_item_row.html",
            item=item,
            product=product,
            price_list=price_list,
            saved=True,
        )
    flash(f"{product.sku}: retail price saved.", "success")
    return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)


@bp.post("/price-lists/<int:price_list_id>/items/<int:item_id>/remove")
def remove_item(price_list_id: int, item_id: int):
    """Take a product out of the list (the product itself stays in the catalogue)."""
    price_list = _distributor_list(price_list_id)
    item = db.session.scalar(
        select(PriceListItem).where(
            PriceListItem.id == item_id, PriceListItem.price_list_id == price_list.id
        )
    )
    if item is None:
        abort(404)
    catalog.remove_item(price_list, item, current_user)
    db.session.commit()
    flash(f"Product removed from {price_list.name}.", "success")
    return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)


@bp.post("/price-lists/<int:price_list_id>/active")
def set_active(price_list_id: int):
    """Activate or deactivate the list (an inactive list cannot be chosen for a tenant)."""
    price_list = _distributor_list(price_list_id)
    active = request.form.get("active") == "1"
    if catalog.set_active(price_list, current_user, active):
        db.session.commit()
    flash(f"{price_list.name} is {'active' if active else 'inactive'}.", "success")
    return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)


@bp.get("/price-lists/<int:price_list_id>/export.csv")
def export_csv(price_list_id: int):
    """Every item as sku,name,retail_price: the file the import reads back."""
    price_list = _distributor_list(price_list_id)
    filename = f"price-list-{price_list.id}.csv"
    return Response(
        catalog.export_csv(price_list),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _imports_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _staged_path(price_list: PriceList, token: str) -> Path | None:
    if not token or not token.isalnum():
        return None
    path = _imports_dir() / f"{price_list.organization_id}-{price_list.id}-{token}.csv"
    return path if path.exists() else None


@bp.route("/price-lists/<int:price_list_id>/import", methods=["GET", "POST"])
def import_csv(price_list_id: int):
    """Upload a CSV: a dry run that lists every row error and changes nothing; a file with
    no errors is kept until the import is confirmed."""
    price_list = _distributor_list(price_list_id)
    if request.method == "GET":
        return render_template("pricelists/import.html", price_list=price_list, plan=None)
    upload = request.files.get("file")
    data = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    error = None
    if not data:
        error = "Choose a CSV file to import."
    elif len(data) > MAX_CSV_BYTES:
        error = "The file is larger than 5 MB: split it in several imports."
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            error = "The file is not UTF-8 text: save it as CSV UTF-8 and try again."
    if error:
        return render_template(
            "pricelists/import.html", price_list=price_list, plan=None, error=error
        ), 400
    plan = catalog.plan_import(price_list, text)
    token = ""
    if plan.ok:
        token = secrets.token_hex(16)
        staged = _imports_dir() / f"{price_list.organization_id}-{price_list.id}-{token}.csv"
        staged.write_text(text, encoding="utf-8")
    return render_template(
        "pricelists/import.html", price_list=price_list, plan=plan, token=token
    ), (200 if plan.ok else 400)


@bp.post("/price-lists/<int:price_list_id>/import/confirm")
def confirm_import(price_list_id: int):
    """Apply a previewed file; it is read again, so a change since the preview is seen."""
    price_list = _distributor_list(price_list_id)
    staged = _staged_path(price_list, request.form.get("token", ""))
    if staged is None:
        flash("That preview has expired: upload the file again.", "error")
        return redirect(url_for("pricelists.import_csv", price_list_id=price_list.id), 303)
    plan = catalog.plan_import(price_list, staged.read_text(encoding="utf-8"))
    if not plan.ok:
        os.unlink(staged)
        return render_template("pricelists/import.html", price_list=price_list, plan=plan), 400
    try:
        catalog.apply_import(price_list, plan, current_user)
    except CatalogError as exc:
        flash(str(exc), "error")
        return redirect(url_for("pricelists.import_csv", price_list_id=price_list.id), 303)
    db.session.commit()
    os.unlink(staged)
    flash(
        f"Imported: {len(plan.new):,} added, {len(plan.changed):,} changed, "
        f"{plan.unchanged:,} unchanged.",
        "success",
    )
    return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)


@bp.app_template_global("tenant_pending_updates")
def tenant_pending_updates(tenant):
    """For the tenant reseller page's Update Tenant card: new, changed and retired products
    waiting in its price list (here with the price lists that cause them)."""
    from webapp.services import tenant_update

    return tenant_update.pending_changes(tenant)


@bp.get("/tenant-range")
def range_fragment():
    """The range fieldset of the creation form for the chosen price list, with its live
    count (htmx)."""
    org = _distributor_org()
    price_list_id = request.args.get("price_list", type=int)
    if price_list_id and db.session.get(PriceList, price_list_id) is not None:
        PriceList.get_in_org_or_404(price_list_id, org.id)
    choice = catalog.read_range(
        price_list_id,
        request.args.getlist("range_platforms"),
        request.args.getlist("range_categories"),
    )
    return render_template("tenants/_range.html", range=choice)


@bp.app_template_global("tenant_range_choice")
def tenant_range_choice(tenant):
    """The tenant's stored range, for the Update Tenant card."""
    return catalog.read_range(
        tenant.price_list_id, tenant.range_platform_ids or [], tenant.range_categories or []
    )
