"""Price lists and products of the signed-in organization.

The distributor manages its catalogue and price lists (webapp.pricelists.distributor). A
tenant creates its own price lists, sets sell prices one by one or by a markup over cost,
chooses its currency, and edits the marketing side of the products copied from its
distributor."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.listing import Listing, Sorts, csv_response, paginate, stream, wants_csv
from webapp.media import uploads_dir
from webapp.models import AuditLog, Organization, PriceList, PriceListItem, Product
from webapp.numbers import page_number, parse_id
from webapp.pricelists.forms import (
    CurrencyChangeForm,
    CurrencyForm,
    MarkupForm,
    PriceListForm,
    ProductForm,
    is_currency,
)
from webapp.scoping import current_organization, org_id
from webapp.services import audit, commerce, price_work, pricing
from webapp.services.images import MAX_BYTES, ImageRejected, store_image
from webapp.services.pricing import AmountError
from webapp.services.processes import ProcessRefused
from webapp.services.sanitize import clean_html

bp = Blueprint("pricelists", __name__)

PAGE_SIZE = 100

# What a tenant may change on a product copied from its distributor; nothing else is written.
EDITABLE_PRODUCT_FIELDS = {
    "name": "name",
    "description": "description",
    "category": "catalogue category",
    "image_path": "image",
    "marketing_html": "marketing text",
}


def _tenant_org() -> Organization:
    """Pages only a tenant has look absent (404) to the distributor's staff."""
    org = current_organization()
    if org.is_root:
        abort(404)
    return org


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


# --- Price lists ------------------------------------------------------------------------------


@bp.get("/price-lists")
def index():
    """Every price list with its currency, state and number of products."""
    counts = dict(
        db.session.execute(
            select(PriceListItem.price_list_id, func.count())
            .where(PriceListItem.organization_id == org_id())
            .group_by(PriceListItem.price_list_id)
        ).all()
    )
    price_lists = db.session.scalars(PriceList.in_org(org_id()).order_by(PriceList.name)).all()
    org = current_organization()
    return render_template(
        "pricelists/list.html",
        price_lists=price_lists,
        counts=counts,
        cost_currencies=sorted(pricing.cost_currencies(org.id)) if not org.is_root else [],
    )


@bp.route("/price-lists/new", methods=["GET", "POST"])
def new():
    """A new price list: the distributor's (any monetary currency, optionally a copy of
    another list) or a tenant's (name, ISO 4217 currency, active)."""
    if current_organization().is_root:
        return distributor.new_distributor_price_list()
    org = _tenant_org()
    form = PriceListForm()
    if request.method == "GET":
        wanted = request.args.get("currency", "")
        form.currency.data = wanted if is_currency(wanted) else org.currency
    if form.validate_on_submit():
        name = form.name.data.strip()
        if db.session.scalar(PriceList.in_org(org.id).where(PriceList.name == name)) is not None:
            form.name.errors = [*form.name.errors, f"You already have a price list named {name}."]
        else:
            price_list = PriceList(
                organization_id=org.id,
                name=name,
                currency=form.currency.data,
                active=bool(form.active.data),
            )
            db.session.add(price_list)
            try:
                db.session.flush()
            except IntegrityError:  # the same name saved at the same moment elsewhere
                db.session.rollback()
                form.name.errors = [f"You already have a price list named {name}."]
            else:
                audit.record(
                    organization_id=org.id,
                    actor=current_user,
                    action="price_list.create",
                    entity_type="price_list",
                    entity_id=price_list.id,
                    summary=f"Price list {name} created ({price_list.currency})",
                    after={
                        "name": name,
                        "currency": price_list.currency,
                        "active": price_list.active,
                    },
                )
                db.session.commit()
                flash(
                    f"Price list {name} created. Set its prices with a markup over cost, or "
                    "one by one.",
                    "success",
                )
                return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("pricelists/new.html", form=form), status


@bp.get("/price-lists/<int:price_list_id>")
def view(price_list_id: int):
    """One price list: read-only for the distributor; with cost, sell price, margin, inline
    editing and the markup tool for a tenant."""
    price_list = PriceList.get_in_org_or_404(price_list_id, org_id())
    if current_organization().is_root:
        return distributor.distributor_view(price_list)
    return render_template("pricelists/tenant_view.html", **_tenant_context(price_list))


@dataclass
class PriceRow:
    """One product in a tenant's price list, every amount in the list's currency."""

    product: Product
    sell: Decimal | None
    cost: Decimal | None  # converted with the typed rate; None when no rate was given
    converted: bool
    margin: Decimal | None
    margin_percent: Decimal | None

    @property
    def sell_text(self) -> str:
        return pricing.plain(self.sell)

    @property
    def margin_percent_text(self) -> str:
        """53.3 % in English, 53,3 % in German: the organization's language."""
        if self.margin_percent is None:
            return "—"
        return pricing.percent_text(self.margin_percent, current_organization().language)


def _price_row(product: Product, sell: Decimal | None, currency: str, rate: Decimal | None):
    converted = bool(product.cost_currency) and product.cost_currency != currency
    product_rate = rate if converted else Decimal(1)
    cost = None
    if product.cost_price is not None and product_rate is not None:
        cost = (product.cost_price * product_rate).quantize(pricing.CENT)
    margin = margin_percent = None
    if cost is not None and sell is not None:
        margin, margin_percent = pricing.margin(product.cost_price, sell, product_rate)
    return PriceRow(product, sell, cost, converted, margin, margin_percent)


def _last_markup(price_list: PriceList) -> AuditLog | None:
    """The audit of the last markup applied to this list: its terms fill the form again."""
    return db.session.scalar(
        select(AuditLog)
        .where(
            AuditLog.organization_id == price_list.organization_id,
            AuditLog.entity_type == "price_list",
            AuditLog.entity_id == price_list.id,
            AuditLog.action == "price_list.markup",
        )
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(1)
    )


def _last_typed_rate(price_list: PriceList) -> tuple[Decimal | None, AuditLog | None]:
    """The exchange rate the tenant typed when it last applied a markup to this list."""
    entry = _last_markup(price_list)
    typed = (entry.after or {}).get("exchange_rate") if entry is not None else None
    return (Decimal(typed), entry) if typed else (None, None)


def _display_rate(price_list: PriceList, foreign: str | None, source) -> dict:
    """The rate used to show costs and margins in the list's currency: the one typed on this
    page (?rate=), else the one typed with the last markup; never one of our own."""
    result = {"rate": None, "rate_text": "", "rate_error": None, "rate_entry": None}
    if foreign is None:
        return result
    typed = (source.get("rate") or "").strip()
    if typed:
        result["rate_text"] = typed
        try:
            result["rate"] = pricing.parse_rate(typed, foreign, price_list.currency)
        except AmountError as exc:
            result["rate_error"] = str(exc)
        return result
    rate, entry = _last_typed_rate(price_list)
    if rate is not None:
        result.update(rate=rate, rate_text=pricing.plain(rate), rate_entry=entry)
    return result


def _tenant_context(
    price_list: PriceList,
    *,
    markup_form: MarkupForm | None = None,
    row_errors: dict[int, str] | None = None,
    row_values: dict[int, str] | None = None,
) -> dict:
    org_pk = org_id()
    source = request.values
    page = page_number(source)
    query = (source.get("q") or "").strip()
    mixed_costs = None
    try:
        foreign = pricing.foreign_cost_currency(org_pk, price_list.currency)
    except AmountError as exc:
        foreign, mixed_costs = None, str(exc)
    rate_info = _display_rate(price_list, foreign, source)
    stmt = (
        select(Product, PriceListItem.retail_price)
        .outerjoin(
            PriceListItem,
            and_(
                PriceListItem.product_id == Product.id,
                PriceListItem.price_list_id == price_list.id,
                PriceListItem.organization_id == org_pk,
            ),
        )
        .where(Product.organization_id == org_pk)
    )
    if query:
        stmt = stmt.where(Product.name.ilike(f"%{query}%") | Product.sku.ilike(f"%{query}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    priced = db.session.scalar(
        select(func.count())
        .select_from(PriceListItem)
        .where(
            PriceListItem.price_list_id == price_list.id, PriceListItem.organization_id == org_pk
        )
    )
    results = db.session.execute(
        stmt.order_by(Product.name, Product.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        _price_row(product, sell, price_list.currency, rate_info["rate"])
        for product, sell in results
    ]
    if markup_form is None:
        markup_form = MarkupForm(formdata=None)
        # The form remembers the last markup's percentage and rounding (it forgot them).
        last = _last_markup(price_list)
        terms = (last.after or {}) if last is not None else {}
        if terms.get("markup_percent"):
            markup_form.markup_percent.data = f"{Decimal(terms['markup_percent']).normalize():f}"
        if terms.get("rounding") in pricing.ROUNDING_RULES:
            markup_form.rounding.data = terms["rounding"]
        if rate_info["rate"] is not None:
            markup_form.exchange_rate.data = pricing.plain(rate_info["rate"])
    if foreign is not None:
        markup_form.exchange_rate.label.text = (
            f"Exchange rate: 1 {foreign} in {price_list.currency}"
        )
    product_count = db.session.scalar(
        select(func.count()).select_from(Product).where(Product.organization_id == org_pk)
    )
    return {
        "price_list": price_list,
        "rows": rows,
        "total": total,
        "priced": priced,
        "product_count": product_count,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "q": query,
        "foreign": foreign,
        "mixed_costs": mixed_costs,
        "markup_form": markup_form,
        "rounding_rules": pricing.ROUNDING_RULES,
        "row_errors": row_errors or {},
        "row_values": row_values or {},
        **rate_info,
    }


def _tenant_price_list(price_list_id: int) -> PriceList:
    _tenant_org()
    return PriceList.get_in_org_or_404(price_list_id, org_id())


def _back_to_list(price_list: PriceList, anchor: str | None = None):
    args = {
        key: request.form[key] for key in ("page", "q", "rate") if request.form.get(key, "").strip()
    }
    url = url_for("pricelists.view", price_list_id=price_list.id, **args)
    return redirect(f"{url}#{anchor}" if anchor else url, 303)


@bp.post("/price-lists/<int:price_list_id>/prices")
def set_price(price_list_id: int):
    """One product's sell price: htmx gets the updated row, a plain form a redirect."""
    price_list = _tenant_price_list(price_list_id)
    product = Product.get_in_org_or_404(parse_id(request.form.get("product_id")) or 0, org_id())
    raw = request.form.get("price", "")
    try:
        typed = pricing.parse_price(raw)
    except AmountError as exc:
        return _price_error(price_list, product, raw, str(exc))
    amount = pricing.to_currency_precision(typed, price_list.currency)
    # The display rate the page was showing (one query for the cost currencies): the row
    # compares with it and is drawn with it again.
    rate = _row_rate(price_list)
    cost = _price_row(product, None, price_list.currency, rate).cost
    if cost is not None and amount < cost and request.form.get("below_cost") != "yes":
        _amount, percent = pricing.margin(cost, amount)
        percent_words = (
            f", a margin of {pricing.percent_text(percent, current_organization().language)}"
            if percent is not None
            else ""
        )
        message = (
            f"{pricing.plain(amount)} is below your cost of {pricing.plain(cost)}{percent_words}. "
            "Tick “Sell below cost” and save again if you mean it."
        )
        return _price_error(price_list, product, raw, message, below_cost=True, rate=rate)
    old, item = pricing.set_price(org_id(), price_list, product, amount)
    if old is None or old != item.retail_price:
        audit.record(
            organization_id=org_id(),
            actor=current_user,
            action="price_list.price",
            entity_type="price_list",
            entity_id=price_list.id,
            summary=f"{product.name}: sell price {old if old is not None else 'none'} → "
            f"{amount} {price_list.currency}",
            before={"product_id": product.id, "retail_price": None if old is None else str(old)},
            after={"product_id": product.id, "retail_price": str(amount)},
        )
    db.session.commit()
    saved = "Saved."
    if amount != typed:
        saved = (
            f"Saved as {pricing.plain(amount)}: {price_list.currency} prices have no smaller unit."
        )
    if _is_htmx():
        return _row_response(price_list, product, saved=saved, rate=rate)
    flash(f"{product.name}: sell price {saved[0].lower()}{saved[1:]}", "success")
    return _back_to_list(price_list, f"price-{product.id}")


_NOT_READ = object()  # a display rate not read from the request yet (None is "no rate")


def _row_rate(price_list: PriceList) -> Decimal | None:
    """The display rate the page was showing, sent back with the row's form."""
    try:
        foreign = pricing.foreign_cost_currency(org_id(), price_list.currency)
        if foreign is None:
            return None
        return _display_rate(price_list, foreign, request.form)["rate"]
    except AmountError:
        return None


def _row_response(
    price_list,
    product,
    *,
    saved=None,
    error=None,
    value=None,
    below_cost=False,
    rate=_NOT_READ,
    status=200,
):
    sell = db.session.scalar(
        select(PriceListItem.retail_price).where(
            PriceListItem.price_list_id == price_list.id,
            PriceListItem.product_id == product.id,
            PriceListItem.organization_id == org_id(),
        )
    )
    if rate is _NOT_READ:
        rate = _row_rate(price_list)
    row = _price_row(product, sell, price_list.currency, rate)
    context = {
        "row": row,
        "price_list": price_list,
        "page": request.form.get("page", ""),
        "q": request.form.get("q", ""),
        "rate_text": pricing.plain(rate),
        "saved": saved,
        "row_errors": {product.id: error} if error else {},
        "row_values": {product.id: value} if value is not None else {},
        "row_below_cost": {product.id} if below_cost else set(),
    }
    return render_template("pricelists/_price_row.html", **context), status


def _price_error(
    price_list: PriceList,
    product: Product,
    raw: str,
    message: str,
    below_cost: bool = False,
    rate=_NOT_READ,
):
    """The message next to the price: in the row (htmx swaps only 2xx, so 200) or on the
    whole page again (400) for a plain form. Nothing is saved."""
    if _is_htmx():
        return _row_response(
            price_list, product, error=message, value=raw, below_cost=below_cost, rate=rate
        )
    context = _tenant_context(
        price_list, row_errors={product.id: message}, row_values={product.id: raw}
    )
    context["row_below_cost"] = {product.id} if below_cost else set()
    return render_template("pricelists/tenant_view.html", **context), 400


@bp.post("/price-lists/<int:price_list_id>/markup")
def markup(price_list_id: int):
    """Every product's sell price = cost × typed rate × (1 + markup %), rounded by a rule."""
    price_list = _tenant_price_list(price_list_id)
    form = MarkupForm()
    valid = form.validate_on_submit()
    markup_percent = rate = foreign = None
    try:
        markup_percent = pricing.parse_markup(form.markup_percent.data)
    except AmountError as exc:
        form.markup_percent.errors = [*form.markup_percent.errors, str(exc)]
    try:
        foreign = pricing.foreign_cost_currency(org_id(), price_list.currency)
        if foreign is not None:
            rate = pricing.parse_rate(form.exchange_rate.data, foreign, price_list.currency)
    except AmountError as exc:
        form.exchange_rate.errors = [*form.exchange_rate.errors, str(exc)]
    if valid and not form.markup_percent.errors and not form.exchange_rate.errors:
        # A whole list is long work: a queued process, batch by batch (never this request).
        try:
            launched = price_work.start_markup(
                org_id(),
                price_list,
                current_user,
                markup_percent,
                form.rounding.data,
                rate,
                foreign,
            )
        except ProcessRefused as refused:
            flash(str(refused), "warning")
            return redirect(url_for("pricelists.view", price_list_id=price_list.id), 303)
        flash(
            f"The markup of {markup_percent.normalize():f} % on {price_list.name} is queued: "
            "prices are set batch by batch. You can leave this page.",
            "success",
        )
        return redirect(url_for("processes.view", process_id=launched.process.id), 303)
    context = _tenant_context(price_list, markup_form=form)
    return render_template("pricelists/tenant_view.html", **context), 400


# --- Currency ---------------------------------------------------------------------------------


@bp.route("/settings/currency", methods=["GET", "POST"])
def currency():
    """The tenant's own currency; its cost prices stay in the distributor's currency.

    Switching to a currency without a priced list would empty the storefront, so the page says
    so and offers to create and price that list in the same step (a queued process that
    switches the currency last)."""
    org = _tenant_org()
    form = CurrencyForm()
    if request.method == "GET":
        form.currency.data = org.currency
        return _currency_page(org, form)
    if not form.validate_on_submit():
        return _currency_page(org, form, status=400)
    chosen = form.currency.data
    if chosen == org.currency:
        flash(f"Your currency stays {chosen}.", "info")
        return redirect(url_for("pricelists.currency"), 303)
    priced = commerce.priced_list_in(org.id, chosen)
    if priced is None and request.form.get("switch_anyway") != "yes":
        change = _currency_change_form(org, chosen)
        return _currency_page(org, form, change=change)
    _switch_currency(org, chosen)
    db.session.commit()
    if priced is not None:
        flash(
            f"Your currency is now {chosen}; your storefront sells from {priced.name}.", "success"
        )
    else:
        flash(
            f"Your currency is now {chosen}. Your storefront shows no products until a price "
            f"list in {chosen} has prices.",
            "warning",
        )
    return redirect(url_for("pricelists.currency"), 303)


@bp.post("/settings/currency/with-price-list")
def currency_with_price_list():
    """Create and price a list in the new currency, then switch: one queued process."""
    org = _tenant_org()
    change = CurrencyChangeForm()
    chosen = change.currency.data or ""
    if not is_currency(chosen) or chosen == org.currency:
        abort(400)
    foreign = None
    valid = change.validate_on_submit()
    markup_percent = rate = None
    try:
        markup_percent = pricing.parse_markup(change.markup_percent.data)
    except AmountError as exc:
        change.markup_percent.errors = [*change.markup_percent.errors, str(exc)]
    try:
        foreign = pricing.foreign_cost_currency(org.id, chosen)
        if foreign is not None:
            rate = pricing.parse_rate(change.exchange_rate.data, foreign, chosen)
    except AmountError as exc:
        change.exchange_rate.errors = [*change.exchange_rate.errors, str(exc)]
    name = (change.price_list_name.data or "").strip()
    if name and db.session.scalar(PriceList.in_org(org.id).where(PriceList.name == name)):
        change.price_list_name.errors = [
            *change.price_list_name.errors,
            "You already have a price list with this name.",
        ]
    errors = change.markup_percent.errors or change.exchange_rate.errors
    if not valid or errors or change.price_list_name.errors:
        form = CurrencyForm(formdata=None)
        form.currency.data = chosen
        _label_rate(change, foreign, chosen)
        return _currency_page(org, form, change=change, status=400)
    try:
        launched = price_work.start_currency_change(
            org, current_user, chosen, name, markup_percent, change.rounding.data, rate, foreign
        )
    except ProcessRefused as refused:
        flash(str(refused), "warning")
        return redirect(url_for("pricelists.currency"), 303)
    flash(
        f"Queued: {name} is created in {chosen} and priced from cost, then your currency "
        f"becomes {chosen}. Your storefront keeps selling in {org.currency} until then.",
        "success",
    )
    return redirect(url_for("processes.view", process_id=launched.process.id), 303)


def _switch_currency(org: Organization, chosen: str) -> None:
    audit.record(
        organization_id=org.id,
        actor=current_user,
        action="organization.currency",
        entity_type="organization",
        entity_id=org.id,
        summary=f"Currency: {org.currency} → {chosen}",
        before={"currency": org.currency},
        after={"currency": chosen},
    )
    org.currency = chosen


def _label_rate(change: CurrencyChangeForm, foreign: str | None, chosen: str) -> None:
    if foreign is not None:
        change.exchange_rate.label.text = f"Exchange rate: 1 {foreign} in {chosen}"


def _currency_change_form(org: Organization, chosen: str) -> CurrencyChangeForm:
    change = CurrencyChangeForm(formdata=None)
    change.currency.data = chosen
    change.price_list_name.data = f"Retail {chosen}"
    with suppress(AmountError):  # mixed cost currencies: the page says so elsewhere
        _label_rate(change, pricing.foreign_cost_currency(org.id, chosen), chosen)
    return change


def _currency_page(org, form, change=None, status=200):
    has_list = commerce.priced_list_in(org.id, org.currency) is not None
    foreign = None
    if change is not None:
        try:
            foreign = pricing.foreign_cost_currency(org.id, change.currency.data)
        except AmountError:
            foreign = None
    return render_template(
        "pricelists/currency.html",
        form=form,
        org=org,
        change=change,
        foreign=foreign,
        rounding_rules=pricing.ROUNDING_RULES,
        cost_currencies=sorted(pricing.cost_currencies(org.id)),
        has_list=has_list,
    ), status


# --- Products ---------------------------------------------------------------------------------


PRODUCT_SORTS = Sorts(
    {
        "name": ("Product", (Product.name,)),
        "sku": ("SKU", (Product.sku,)),
        "category": ("Category", (Product.category,)),
        "cost": ("Cost price", (Product.cost_price,)),
    },
    tie=Product.id,
)


@bp.get("/products")
def products():
    """The organization's catalogue, a page at a time, sortable, searchable by name or SKU,
    exportable to CSV; a tenant sees its copies with their cost prices."""
    listing = Listing.from_request(PRODUCT_SORTS)
    stmt = Product.in_org(org_id()).options(joinedload(Product.platform))
    if listing.q:
        like = f"%{listing.q}%"
        stmt = stmt.where(Product.name.ilike(like) | Product.sku.ilike(like))
    if wants_csv():
        return csv_response(
            "products.csv",
            ["Product", "SKU", "Platform", "Category", "Cost price", "Cost currency"],
            stream(stmt.order_by(*PRODUCT_SORTS.order_by(listing.sort, listing.descending))),
            lambda p: [
                p.name,
                p.sku,
                p.platform.name,
                p.category,
                p.cost_price,
                p.cost_currency if p.cost_price is not None else "",
            ],
        )
    pagination = paginate(stmt, listing, PRODUCT_SORTS)
    return render_template(
        "pricelists/products.html",
        products=pagination.items,
        pagination=pagination,
        listing=listing,
        total=pagination.total,
        q=listing.q,
    )


def _product_snapshot(product: Product) -> dict:
    return {name: getattr(product, name) for name in EDITABLE_PRODUCT_FIELDS}


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    """A tenant's product: name, description, image, marketing text and category are the
    tenant's; cost price, cost currency, platform, SKU and billing period are the
    distributor's and are never read from the form. The distributor edits every field."""
    if current_organization().is_root:
        return distributor.edit_distributor_product(Product.get_in_org_or_404(product_id, org_id()))
    org = _tenant_org()
    product = Product.get_in_org_or_404(product_id, org.id)
    form = ProductForm(obj=product if request.method == "GET" else None)
    if form.validate_on_submit():
        stored = None
        upload = form.image.data
        if upload:
            try:
                stored = store_image(upload.read(MAX_BYTES + 1), uploads_dir())
            except ImageRejected as exc:
                form.image.errors = [*form.image.errors, str(exc)]
        if not form.image.errors:
            before = _product_snapshot(product)
            product.name = form.name.data.strip()
            product.description = (form.description.data or "").strip()
            product.category = (form.category.data or "").strip()
            product.marketing_html = clean_html(form.marketing_html.data)
            if stored is not None:
                product.image_path = stored.filename
            elif form.remove_image.data:
                product.image_path = ""
            after = _product_snapshot(product)
            changed = [name for name in EDITABLE_PRODUCT_FIELDS if before[name] != after[name]]
            if changed:
                audit.record(
                    organization_id=org.id,
                    actor=current_user,
                    action="product.update",
                    entity_type="product",
                    entity_id=product.id,
                    summary=f"{product.name}: changed "
                    + ", ".join(EDITABLE_PRODUCT_FIELDS[name] for name in changed),
                    before={name: before[name] for name in changed},
                    after={name: after[name] for name in changed},
                )
                db.session.commit()
                flash(f"{product.name} saved.", "success")
            else:
                flash("Nothing to save: no field was changed.", "info")
            return redirect(url_for("pricelists.edit_product", product_id=product.id), 303)
    categories = db.session.scalars(
        select(Product.category)
        .where(Product.organization_id == org.id, Product.category != "")
        .distinct()
        .order_by(Product.category)
    ).all()
    return render_template(
        "pricelists/product_edit.html",
        form=form,
        product=product,
        categories=categories,
        preview=Markup(clean_html(product.marketing_html)),  # noqa: S704 - nh3 output only
        logs=audit.entries_for(org.id, ("product", product.id), limit=20),
    ), (400 if request.method == "POST" else 200)


# The distributor's routes live on this blueprint too; imported last because they use `bp`.
from webapp.pricelists import distributor  # noqa: E402
