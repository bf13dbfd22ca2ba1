"""The distributor's catalogue: products (create, edit, retire) and price lists (create, copy
with an exchange rate, items, activation, CSV export and a dry-run CSV import). Every write is
audited with before/after in the same transaction; the caller commits."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import list_currencies
from sqlalchemy import insert, select, update

from webapp.extensions import db
from webapp.models import PriceList, PriceListItem, Product, User
from webapp.services import audit
from webapp.services.pricing import ROUNDING_RULES, AmountError, apply_rounding, parse_price

BILLING_PERIODS = ("Monthly", "Annual", "One-time")

# ISO 4217 codes that are not money: precious metals, bond-market units, SDR, testing and
# "no currency". A price list in them could never be billed.
NON_MONETARY = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA"}
)

CSV_COLUMNS = ("sku", "name", "retail_price")
CSV_REQUIRED = ("sku", "retail_price")


class CatalogError(ValueError):
    """A refusal in words for the person who asked."""


def currency_problem(code: str | None) -> str | None:
    """Why a code cannot be a price list's currency, or None when it can."""
    code = (code or "").strip().upper()
    if not code or code not in list_currencies():
        return "Choose a currency by its ISO 4217 code, for example EUR or USD."
    if code in NON_MONETARY:
        return f"{code} is not money (a testing, metal or accounting unit): choose a currency."
    return None


# --- Products ---------------------------------------------------------------------------------

PRODUCT_FIELDS = ("sku", "name", "category", "platform_id", "billing_period", "description")


def product_snapshot(product: Product) -> dict:
    data = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    data["discontinued"] = bool(product.discontinued)
    return data


def sku_taken(organization_id: int, sku: str, except_id: int | None = None) -> bool:
    stmt = select(Product.id).where(Product.organization_id == organization_id, Product.sku == sku)
    if except_id is not None:
        stmt = stmt.where(Product.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_product(organization_id: int, actor: User | None, values: dict) -> Product:
    """A new product of the distributor; the caller commits (a duplicate SKU racing in raises
    IntegrityError at flush, which the caller turns into the field's message)."""
    product = Product(organization_id=organization_id, **values)
    db.session.add(product)
    db.session.flush()
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="product.create",
        entity_type="product",
        entity_id=product.id,
        summary=f"Product {product.sku} {product.name} created",
        after=product_snapshot(product),
    )
    return product


def update_product(product: Product, actor: User | None, values: dict) -> list[str]:
    """Change the given fields; audits only what changed and returns those field names."""
    before = product_snapshot(product)
    for name, value in values.items():
        setattr(product, name, value)
    db.session.flush()
    after = product_snapshot(product)
    changed = [name for name in after if before[name] != after[name]]
    if changed:
        audit.record(
            organization_id=product.organization_id,
            actor=actor,
            action="product.update",
            entity_type="product",
            entity_id=product.id,
            summary=f"{product.sku}: changed {', '.join(changed)}",
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
        )
    return changed


def retire_product(product: Product, actor: User | None) -> bool:
    """Mark the product discontinued: never deleted, since subscriptions may use it."""
    if product.discontinued:
        return False
    product.discontinued = True
    audit.record(
        organization_id=product.organization_id,
        actor=actor,
        action="product.retire",
        entity_type="product",
        entity_id=product.id,
        summary=f"{product.sku} {product.name} retired",
        before={"discontinued": False},
        after={"discontinued": True},
    )
    return True


# --- Price lists ------------------------------------------------------------------------------


def create_price_list(
    organization_id: int,
    actor: User | None,
    *,
    name: str,
    currency: str,
    active: bool,
    copy_from: PriceList | None = None,
    rate: Decimal | None = None,
    rounding: str = "cent",
) -> tuple[PriceList, int | object]:
    """A new price list, optionally with every item of another list converted by the typed
    rate and rounded; returns the list and the number of items copied, or, for a big copy,
    the queued (not yet committed) Process that will copy them: the caller starts it."""
    problem = currency_problem(currency)
    if problem:
        raise CatalogError(problem)
    price_list = PriceList(
        organization_id=organization_id, name=name, currency=currency, active=active
    )
    db.session.add(price_list)
    db.session.flush()
    copied = 0
    queued = copy_from is not None and items_to_copy(copy_from) > inline_copy_limit()
    if copy_from is not None and not queued:
        copied = copy_items(copy_from, price_list, rate or Decimal(1), rounding)
    audit.record(
        organization_id=organization_id,
        actor=actor,
        action="price_list.create",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"Price list {name} created ({currency})"
        + (f", {copied} prices copied from {copy_from.name} at {rate}" if copy_from else ""),
        after={
            "name": name,
            "currency": currency,
            "active": active,
            "copied_from": copy_from.id if copy_from else None,
            "exchange_rate": str(rate) if copy_from else None,
            "rounding": rounding if copy_from else None,
            "copied": copied,
            "queued": queued,
        },
    )
    if queued:
        process = _prepare_copy(price_list, copy_from, rate or Decimal(1), rounding, actor)
        return price_list, process
    return price_list, copied


def inline_copy_limit() -> int:
    """Copies of more items than this run as a queued process (PRICE_LIST_COPY_INLINE_MAX)."""
    from flask import current_app

    return int(current_app.config.get("PRICE_LIST_COPY_INLINE_MAX", 5000))


def _prepare_copy(target, source, rate, rounding, actor):
    from webapp.services.processes import ProcessKind, lifecycle
    from webapp.services.processes.price_list_steps import PRICE_LIST_COPY_STEPS

    return lifecycle.prepare(
        ProcessKind.PRICE_LIST_COPY,
        organization_id=target.organization_id,
        name=f"Copy {source.name} into {target.name}",
        steps=PRICE_LIST_COPY_STEPS,
        actor=actor,
        lock_key=f"price_list:{target.id}",
        params={
            "source_id": source.id,
            "target_id": target.id,
            "rate": str(rate),
            "rounding": rounding,
            "expected_items": items_to_copy(source),
        },
    )


def copy_batch(
    source: PriceList,
    target: PriceList,
    rate: Decimal,
    rounding: str,
    after_id: int,
    size: int,
) -> tuple[int | None, int]:
    """Copy the next `size` items of source (by item id, after `after_id`) into target at
    price × rate, rounded; products already in target are left alone, so a resumed copy
    never duplicates. Returns (last item id read or None when done, items inserted)."""
    if rounding not in ROUNDING_RULES:
        raise CatalogError("Choose how prices are rounded.")
    rows = db.session.execute(
        select(PriceListItem.id, PriceListItem.product_id, PriceListItem.retail_price)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(
            PriceListItem.price_list_id == source.id,
            PriceListItem.id > after_id,
            Product.discontinued.is_(False),
        )
        .order_by(PriceListItem.id)
        .limit(size)
    ).all()
    if not rows:
        return None, 0
    present = set(
        db.session.scalars(
            select(PriceListItem.product_id).where(
                PriceListItem.price_list_id == target.id,
                PriceListItem.product_id.in_([r.product_id for r in rows]),
            )
        )
    )
    inserts = [
        {
            "organization_id": target.organization_id,
            "price_list_id": target.id,
            "product_id": r.product_id,
            "retail_price": apply_rounding(r.retail_price * rate, rounding),
        }
        for r in rows
        if r.product_id not in present
    ]
    if inserts:
        db.session.execute(insert(PriceListItem), inserts)
    return rows[-1].id, len(inserts)


def copy_items(source: PriceList, target: PriceList, rate: Decimal, rounding: str) -> int:
    """Copy every item in one transaction (small lists; big ones go to a process)."""
    copied, last = 0, 0
    while True:
        last, inserted = copy_batch(source, target, rate, rounding, last, 2000)
        if last is None:
            return copied
        copied += inserted


def items_to_copy(source: PriceList) -> int:
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count())
        .select_from(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == source.id, Product.discontinued.is_(False))
    )


def set_active(price_list: PriceList, actor: User | None, active: bool) -> bool:
    if price_list.active == active:
        return False
    audit.record(
        organization_id=price_list.organization_id,
        actor=actor,
        action="price_list.activate" if active else "price_list.deactivate",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"Price list {price_list.name} {'activated' if active else 'deactivated'}",
        before={"active": price_list.active},
        after={"active": active},
    )
    price_list.active = active
    return True


def set_item_price(
    price_list: PriceList, product: Product, amount: Decimal, actor: User | None
) -> Decimal | None:
    """Add the product to the list at this price, or change its price; returns the old one."""
    item = db.session.scalar(
        select(PriceListItem).where(
            PriceListItem.price_list_id == price_list.id, PriceListItem.product_id == product.id
        )
    )
    old = item.retail_price if item is not None else None
    if old is not None and old == amount:
        return old
    if item is None:
        db.session.add(
            PriceListItem(
                organization_id=price_list.organization_id,
                price_list_id=price_list.id,
                product_id=product.id,
                retail_price=amount,
            )
        )
    else:
        item.retail_price = amount
    audit.record(
        organization_id=price_list.organization_id,
        actor=actor,
        action="price_list.price" if old is not None else "price_list.add",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"{product.sku}: retail price {old if old is not None else 'none'} → "
        f"{amount} {price_list.currency}",
        before={"product_id": product.id, "retail_price": None if old is None else str(old)},
        after={"product_id": product.id, "retail_price": str(amount)},
    )
    db.session.flush()
    return old


def remove_item(price_list: PriceList, item: PriceListItem, actor: User | None) -> None:
    product = db.session.get(Product, item.product_id)
    audit.record(
        organization_id=price_list.organization_id,
        actor=actor,
        action="price_list.remove",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"{product.sku} removed from {price_list.name}",
        before={"product_id": product.id, "retail_price": str(item.retail_price)},
        after=None,
    )
    db.session.delete(item)


# --- CSV --------------------------------------------------------------------------------------


def export_csv(price_list: PriceList) -> str:
    """sku,name,retail_price for every item, in SKU order; the import reads the same file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = db.session.execute(
        select(Product.sku, Product.name, PriceListItem.retail_price)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == price_list.id)
        .order_by(Product.sku)
    )
    for sku, name, price in rows:
        writer.writerow(
            [
                sku,
                name,
                f"{price:.2f}"
                if price == price.quantize(Decimal("0.01"))
                else str(price.normalize()),
            ]
        )
    return out.getvalue()


@dataclass
class RowError:
    row: int  # the line number in the file, the header being line 1
    column: str
    message: str


@dataclass
class ImportPlan:
    """What an import would do; nothing is written while `errors` is not empty."""

    header_error: str | None = None
    errors: list[RowError] = field(default_factory=list)
    new: dict[int, Decimal] = field(default_factory=dict)  # product id → price
    changed: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return self.header_error is None and not self.errors

    @property
    def rows(self) -> int:
        return len(self.new) + len(self.changed) + self.unchanged + len(self.errors)


def plan_import(price_list: PriceList, text: str) -> ImportPlan:
    """Read the whole CSV and name every bad row (row number, column, message)."""
    plan = ImportPlan()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    columns = [c.strip().lower() for c in header or []]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if header is None or missing:
        found = ", ".join(c for c in columns if c) or "nothing"
        plan.header_error = (
            f"The first line must name the columns sku and retail_price (name is optional, "
            f"as in the export); found: {found}."
        )
        return plan
    sku_at, price_at = columns.index("sku"), columns.index("retail_price")
    products = dict(
        db.session.execute(
            select(Product.sku, Product).where(
                Product.organization_id == price_list.organization_id
            )
        ).all()
    )
    current = dict(
        db.session.execute(
            select(PriceListItem.product_id, PriceListItem.retail_price).where(
                PriceListItem.price_list_id == price_list.id
            )
        ).all()
    )
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        sku = row[sku_at].strip() if sku_at < len(row) else ""
        raw = row[price_at] if price_at < len(row) else ""
        product = products.get(sku)
        if not sku:
            plan.errors.append(RowError(number, "sku", "The SKU is empty."))
            continue
        if product is None:
            plan.errors.append(RowError(number, "sku", f"No product has the SKU {sku}."))
            continue
        if product.discontinued:
            plan.errors.append(RowError(number, "sku", f"{sku} is retired."))
            continue
        if sku in seen:
            plan.errors.append(RowError(number, "sku", f"{sku} is already on row {seen[sku]}."))
            continue
        seen[sku] = number
        try:
            price = parse_price(raw)
        except AmountError as exc:
            plan.errors.append(RowError(number, "retail_price", str(exc)))
            continue
        old = current.get(product.id)
        if old is None:
            plan.new[product.id] = price
        elif old != price:
            plan.changed[product.id] = (old, price)
        else:
            plan.unchanged += 1
    return plan


def apply_import(price_list: PriceList, plan: ImportPlan, actor: User | None) -> None:
    """Write a plan without errors: one INSERT for new items, one UPDATE for changed ones."""
    if not plan.ok:
        raise CatalogError("The file has errors: nothing was imported.")
    if plan.new:
        db.session.execute(
            insert(PriceListItem),
            [
                {
                    "organization_id": price_list.organization_id,
                    "price_list_id": price_list.id,
                    "product_id": pid,
                    "retail_price": price,
                }
                for pid, price in plan.new.items()
            ],
        )
    if plan.changed:
        ids = dict(
            db.session.execute(
                select(PriceListItem.product_id, PriceListItem.id).where(
                    PriceListItem.price_list_id == price_list.id,
                    PriceListItem.product_id.in_(list(plan.changed)),
                )
            ).all()
        )
        db.session.execute(
            update(PriceListItem),
            [{"id": ids[pid], "retail_price": new} for pid, (_old, new) in plan.changed.items()],
        )
    audit.record(
        organization_id=price_list.organization_id,
        actor=actor,
        action="price_list.import",
        entity_type="price_list",
        entity_id=price_list.id,
        summary=f"CSV import into {price_list.name}: {len(plan.new)} added, "
        f"{len(plan.changed)} changed, {plan.unchanged} unchanged",
        before={str(pid): str(old) for pid, (old, _new) in list(plan.changed.items())[:200]},
        after={
            "added": len(plan.new),
            "changed": len(plan.changed),
            "unchanged": plan.unchanged,
        },
    )


# --- The range of products a tenant reseller inherits -----------------------------------------


def in_range(product, platform_ids, categories) -> list:
    """Conditions on a Product (alias) for a tenant's range: sold (not retired), on one of
    the chosen platforms and in one of the chosen categories; None or empty = all."""
    conditions = [product.discontinued.is_(False)]
    if platform_ids:
        conditions.append(product.platform_id.in_(list(platform_ids)))
    if categories:
        conditions.append(product.category.in_(list(categories)))
    return conditions


def range_count(price_list_id: int, platform_ids=None, categories=None) -> int:
    """How many products of the price list a tenant with this range would get."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count())
        .select_from(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(
            PriceListItem.price_list_id == price_list_id,
            *in_range(Product, platform_ids, categories),
        )
    )


def range_choices(price_list_id: int) -> tuple[list[tuple[int, str, int]], list[tuple[str, int]]]:
    """The platforms and categories of a price list's products, each with its count."""
    from sqlalchemy import func

    from webapp.models import ProvisioningPlatform

    platforms = db.session.execute(
        select(ProvisioningPlatform.id, ProvisioningPlatform.name, func.count())
        .select_from(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .join(ProvisioningPlatform, ProvisioningPlatform.id == Product.platform_id)
        .where(PriceListItem.price_list_id == price_list_id, Product.discontinued.is_(False))
        .group_by(ProvisioningPlatform.id, ProvisioningPlatform.name)
        .order_by(ProvisioningPlatform.name)
    ).all()
    categories = db.session.execute(
        select(Product.category, func.count())
        .select_from(PriceListItem)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == price_list_id, Product.discontinued.is_(False))
        .group_by(Product.category)
        .order_by(Product.category)
    ).all()
    return [tuple(p) for p in platforms], [tuple(c) for c in categories]


@dataclass
class RangeChoice:
    """A range chosen on a form, checked against the price list's platforms/categories."""

    platforms: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    chosen_platforms: list[int] = field(default_factory=list)
    chosen_categories: list[str] = field(default_factory=list)
    count: int = 0
    error: str | None = None

    @property
    def platform_ids(self) -> list[int] | None:
        return self.chosen_platforms or None

    @property
    def category_names(self) -> list[str] | None:
        return self.chosen_categories or None


def read_range(price_list_id: int | None, platform_values, category_values) -> RangeChoice:
    """Parse the ticked platforms and categories for a price list; unknown values and a
    range with no product are errors in words."""
    choice = RangeChoice()
    if not price_list_id:
        return choice
    choice.platforms, choice.categories = range_choices(price_list_id)
    known_platforms = {p[0] for p in choice.platforms}
    known_categories = {c[0] for c in choice.categories}
    try:
        choice.chosen_platforms = sorted({int(v) for v in platform_values})
    except (TypeError, ValueError):
        choice.error = "Choose platforms from the list."
        return choice
    choice.chosen_categories = sorted(set(category_values))
    if not set(choice.chosen_platforms) <= known_platforms or not (
        set(choice.chosen_categories) <= known_categories
    ):
        choice.error = "Choose platforms and categories of the chosen price list."
        return choice
    choice.count = range_count(price_list_id, choice.platform_ids, choice.category_names)
    if choice.count == 0:
        choice.error = "No product of the price list is in this range: tick fewer boxes."
    return choice
