"""Update Tenant: bring a tenant's copies in line with its distributor price list.

Every step works on the *differences* that are still there, found by a query (never a list
of ids held in Python), and changes them set-based in batches that commit with their
progress. Run twice, or again after a crash halfway, a step finds nothing left to do.

The order matters for one step: sell prices follow the cost prices that are about to
change, so "Update sell prices" runs while the tenant's old cost prices still show which
products change. A Partial update has only the compare and the price tasks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, literal, select, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import PriceList, PriceListItem, Product, TenantStatus, utcnow
from webapp.models.base import UTCDateTime
from webapp.services.catalog import in_range
from webapp.services.processes.batches import Pass, count, insert_ignoring_duplicates, run_passes
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step

FULL, PARTIAL = "full", "partial"


@dataclass(frozen=True)
class Scope:
    """What an update compares: the distributor's price list and the tenant's copies."""

    tenant_org_id: int
    price_list_id: int
    price_list_name: str
    currency: str
    full: bool
    overwrite_sell_prices: bool
    overwrite_names: bool
    # The tenant's range of products (None: every platform / category).
    platform_ids: tuple[int, ...] | None = None
    categories: tuple[str, ...] | None = None

    def wanted(self, product) -> list:
        return in_range(product, self.platform_ids, self.categories)

    # --- The differences, each a select of one unique integer key (for keyset batches) ---

    def in_price_list(self, source_id):
        """Sold through the price list: in it and not retired by the distributor. (An alias:
        the plain Product would be correlated with an enclosing UPDATE of the copies.)"""
        source = aliased(Product)
        return source_id.in_(
            select(PriceListItem.product_id)
            .join(source, source.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == self.price_list_id, *self.wanted(source))
        )

    def out_of_range(self):
        """A condition on PriceListItem: its product is retired or outside the range."""
        source = aliased(Product)
        return ~exists().where(source.id == PriceListItem.product_id, *self.wanted(source))

    def not_copied(self):
        """A condition on PriceListItem: the tenant has no copy of its product."""
        copy = aliased(Product)
        return ~exists().where(
            copy.organization_id == self.tenant_org_id,
            copy.source_product_id == PriceListItem.product_id,
        )

    def new_items(self) -> Select:
        """Price list items whose product the tenant has no copy of (keys: item ids)."""
        return select(PriceListItem.id).where(
            PriceListItem.price_list_id == self.price_list_id,
            self.not_copied(),
            ~self.out_of_range(),
        )

    def copies_in_list(self, copy, item) -> Select:
        return (
            select(copy.source_product_id)
            .join(
                item,
                and_(
                    item.price_list_id == self.price_list_id,
                    item.product_id == copy.source_product_id,
                ),
            )
            .where(copy.organization_id == self.tenant_org_id)
        )

    def price_changes(self) -> Select:
        """Copies whose cost price is not the price list's retail price (keys: source ids)."""
        return self.copies_in_list(Product, PriceListItem).where(
            Product.cost_price.is_distinct_from(PriceListItem.retail_price)
        )

    def gone(self) -> Select:
        """Copies of products no longer in the price list (or retired by the distributor),
        not yet marked discontinued."""
        return select(Product.source_product_id).where(
            Product.organization_id == self.tenant_org_id,
            Product.source_product_id.is_not(None),
            Product.discontinued.is_(False),
            ~self.in_price_list(Product.source_product_id),
        )

    def back(self) -> Select:
        """Copies marked discontinued whose product is in the price list again."""
        return select(Product.source_product_id).where(
            Product.organization_id == self.tenant_org_id,
            Product.discontinued.is_(True),
            self.in_price_list(Product.source_product_id),
        )

    def name_changes(self) -> Select:
        """Copies (of products in the price list) named differently from their source."""
        source = aliased(Product)
        return (
            self.copies_in_list(Product, PriceListItem)
            .join(source, source.id == Product.source_product_id)
            .where(Product.name != source.name)
        )


def scope_for(ctx: StepContext) -> Scope:
    tenant = ctx.tenant
    if tenant is None or tenant.tenant_organization_id is None:
        raise StepFailure("The tenant reseller or its organization no longer exists.")
    price_list = db.session.get(PriceList, tenant.price_list_id)
    if price_list is None:
        raise StepFailure("The tenant reseller's price list no longer exists.")
    params = ctx.process.params or {}
    return Scope(
        tenant_org_id=tenant.tenant_organization_id,
        price_list_id=price_list.id,
        price_list_name=price_list.name,
        currency=price_list.currency,
        full=params.get("mode") == FULL,
        overwrite_sell_prices=bool(params.get("overwrite_sell_prices")),
        overwrite_names=bool(params.get("overwrite_names")),
        platform_ids=tuple(tenant.range_platform_ids) if tenant.range_platform_ids else None,
        categories=tuple(tenant.range_categories) if tenant.range_categories else None,
    )


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# --- The steps ------------------------------------------------------------------------------


def compare(ctx: StepContext) -> str:
    """Count each kind of difference between the price list and the tenant's copies."""
    tenant = ctx.tenant
    if tenant is not None and tenant.status != TenantStatus.ACTIVE:
        raise StepFailure(
            f"The tenant reseller is {tenant.status}; only an Active tenant reseller is "
            "updated. Activate it again, then retry the process."
        )
    scope = scope_for(ctx)
    found = {
        "new": count(scope.new_items()),
        "price_changes": count(scope.price_changes()),
        "gone": count(scope.gone()),
        "back": count(scope.back()),
        "name_changes": count(scope.name_changes()),
    }
    copies = db.session.scalar(
        select(func.count()).where(
            Product.organization_id == scope.tenant_org_id,
            Product.source_product_id.is_not(None),
        )
    )
    ctx.process.params = {**(ctx.process.params or {}), "found": found}
    ctx.progress(1, 1)
    parts = [
        plural(found["new"], "new product"),
        plural(found["price_changes"], "price change"),
        plural(found["gone"], "product") + " no longer in the price list",
    ]
    if found["back"]:
        parts.append(plural(found["back"], "product") + " back in it")
    parts.append(plural(found["name_changes"], "name difference"))
    summary = f"{scope.price_list_name} against the tenant's {copies:,} copies: " + ", ".join(parts)
    if not scope.full:
        summary += ". A partial update transfers only the price changes"
    return summary + "."


def copy_new_products(ctx: StepContext) -> str:
    """Copy the products new in the price list, cost price = retail price (set-based)."""
    scope = scope_for(ctx)
    if not scope.full:
        return "Not part of a partial update."
    org_currency = scope.currency  # the cost currency is the price list's, like every copy
    columns = [
        "organization_id",
        "platform_id",
        "sku",
        "name",
        "description",
        "category",
        "billing_period",
        "source_product_id",
        "cost_price",
        "cost_currency",
        "created_at",
    ]
    now = utcnow()

    def statement(first: int, last: int):
        source = (
            select(
                literal(scope.tenant_org_id),
                Product.platform_id,
                Product.sku,
                Product.name,
                Product.description,
                Product.category,
                Product.billing_period,
                Product.id,
                PriceListItem.retail_price,
                literal(org_currency),
                literal(now, UTCDateTime),
            )
            .join(Product, Product.id == PriceListItem.product_id)
            .where(
                PriceListItem.price_list_id == scope.price_list_id,
                PriceListItem.id.between(first, last),
                scope.not_copied(),
                *scope.wanted(Product),
            )
        )
        return insert_ignoring_duplicates(Product.__table__, columns, source)

    copied = run_passes(ctx, [Pass("new", scope.new_items(), statement)], "new products")
    # ON CONFLICT also skips a product whose SKU the tenant already uses for its own product.
    own = aliased(Product)
    clashes = db.session.scalars(
        select(Product.sku)
        .join(PriceListItem, PriceListItem.product_id == Product.id)
        .join(own, and_(own.organization_id == scope.tenant_org_id, own.sku == Product.sku))
        .where(PriceListItem.price_list_id == scope.price_list_id, scope.not_copied())
        .order_by(Product.sku)
    ).all()
    message = f"{plural(copied['new'], 'new product')} copied at their cost prices."
    if copied["new"] and not scope.overwrite_sell_prices:
        message += " They have no sell price yet: the tenant sets it in its price list."
    if clashes:
        message += (
            f" {plural(len(clashes), 'product')} not copied because the tenant has its own "
            f"product with the same SKU: {', '.join(clashes[:10])}"
            + (" …" if len(clashes) > 10 else "")
            + "."
        )
    return message


def _default_price_list(scope: Scope) -> PriceList | None:
    return db.session.scalar(
        PriceList.in_org(scope.tenant_org_id).where(PriceList.name == f"Default {scope.currency}")
    )


def update_sell_prices(ctx: StepContext) -> str:
    """Sell prices in the tenant's default price list := the new cost, only for products
    whose cost changes (this runs just before the cost update) and, in a Full update,
    new products that have no sell price yet."""
    scope = scope_for(ctx)
    if not scope.overwrite_sell_prices:
        return "Not requested: the tenant's sell prices were left alone."
    price_list = _default_price_list(scope)
    if price_list is None:
        return (
            f"The tenant has no price list named Default {scope.currency}; "
            "its sell prices were left alone."
        )
    copy, source, sell = aliased(Product), aliased(PriceListItem), aliased(PriceListItem)

    def changing():  # copies in the price list whose cost is about to change
        return scope.copies_in_list(copy, source).where(
            copy.cost_price.is_distinct_from(source.retail_price)
        )

    to_change = (
        changing()
        .join(sell, and_(sell.price_list_id == price_list.id, sell.product_id == copy.id))
        .where(sell.retail_price.is_distinct_from(source.retail_price))
    )
    unpriced = ~exists().where(sell.price_list_id == price_list.id, sell.product_id == copy.id)
    to_add = (scope.copies_in_list(copy, source) if scope.full else changing()).where(unpriced)

    def change(first: int, last: int):
        its_copy, its_source = aliased(Product), aliased(PriceListItem)
        new_price = (
            select(its_source.retail_price)
            .join(its_copy, its_copy.source_product_id == its_source.product_id)
            .where(
                its_source.price_list_id == scope.price_list_id,
                its_copy.organization_id == scope.tenant_org_id,
                its_copy.id == PriceListItem.product_id,
            )
            .scalar_subquery()
        )
        products = (
            changing().where(copy.source_product_id.between(first, last)).with_only_columns(copy.id)
        )
        return (
            update(PriceListItem)
            .where(
                PriceListItem.price_list_id == price_list.id,
                PriceListItem.product_id.in_(products),
                PriceListItem.retail_price.is_distinct_from(new_price),
            )
            .values(retail_price=new_price)
        )

    def add(first: int, last: int):
        rows = to_add.where(copy.source_product_id.between(first, last)).with_only_columns(
            literal(scope.tenant_org_id),
            literal(price_list.id),
            copy.id,
            source.retail_price,
        )
        return insert_ignoring_duplicates(
            PriceListItem.__table__,
            ["organization_id", "price_list_id", "product_id", "retail_price"],
            rows,
        )

    applied = run_passes(
        ctx, [Pass("changed", to_change, change), Pass("added", to_add, add)], "sell prices"
    )
    return (
        f"In {price_list.name}: {plural(applied['changed'], 'sell price')} set to the new "
        f"cost price, {plural(applied['added'], 'product')} priced at cost"
        + (" (new products)." if scope.full else ".")
    )


def update_cost_prices(ctx: StepContext) -> str:
    """Cost price := the price list's retail price where they differ (set-based, batched)."""
    scope = scope_for(ctx)
    retail = (
        select(PriceListItem.retail_price)
        .where(
            PriceListItem.price_list_id == scope.price_list_id,
            PriceListItem.product_id == Product.source_product_id,
        )
        .scalar_subquery()
    )

    def statement(first: int, last: int):
        return (
            update(Product)
            .where(
                Product.organization_id == scope.tenant_org_id,
                Product.source_product_id.between(first, last),
                scope.in_price_list(Product.source_product_id),
                Product.cost_price.is_distinct_from(retail),
            )
            .values(cost_price=retail, cost_currency=scope.currency)
        )

    applied = run_passes(ctx, [Pass("changed", scope.price_changes(), statement)], "cost prices")
    return f"{plural(applied['changed'], 'cost price')} updated to the new retail prices."


def mark_discontinued(ctx: StepContext) -> str:
    """Copies of products no longer in the price list are marked discontinued (never
    deleted: subscriptions may use them); those back in it are no longer discontinued."""
    scope = scope_for(ctx)
    if not scope.full:
        return "Not part of a partial update."

    in_list = scope.in_price_list(Product.source_product_id)

    def setting(value: bool):
        def statement(first: int, last: int):
            return (
                update(Product)
                .where(
                    Product.organization_id == scope.tenant_org_id,
                    Product.source_product_id.between(first, last),
                    Product.discontinued.is_(not value),
                    ~in_list if value else in_list,
                )
                .values(discontinued=value)
            )

        return statement

    applied = run_passes(
        ctx,
        [Pass("marked", scope.gone(), setting(True)), Pass("back", scope.back(), setting(False))],
        "products",
    )
    message = (
        f"{plural(applied['marked'], 'product')} marked discontinued (kept for existing "
        "subscriptions)"
    )
    if applied["back"]:
        message += f"; {plural(applied['back'], 'product')} back in the price list"
    return message + "."


def update_product_names(ctx: StepContext) -> str:
    """The tenant's product name := the distributor's where they differ."""
    scope = scope_for(ctx)
    if not scope.overwrite_names:
        return "Not requested: the tenant's product names were left alone."
    source = aliased(Product)
    new_name = select(source.name).where(source.id == Product.source_product_id).scalar_subquery()

    def statement(first: int, last: int):
        return (
            update(Product)
            .where(
                Product.organization_id == scope.tenant_org_id,
                Product.source_product_id.between(first, last),
                scope.in_price_list(Product.source_product_id),
                Product.name != new_name,
            )
            .values(name=new_name)
        )

    applied = run_passes(ctx, [Pass("renamed", scope.name_changes(), statement)], "product names")
    return f"{plural(applied['renamed'], 'product name')} set to the distributor's name."


UPDATE_STEPS: list[Step] = [
    Step("update_compare", "Compare price list", compare),
    Step("update_copy_new_products", "Copy new products", copy_new_products),
    Step("update_sell_prices", "Update sell prices", update_sell_prices),
    Step("update_cost_prices", "Update cost prices", update_cost_prices),
    Step("update_mark_discontinued", "Mark discontinued products", mark_discontinued),
    Step("update_product_names", "Update product names", update_product_names),
]


def steps_for(mode: str, overwrite_sell_prices: bool, overwrite_names: bool) -> list[Step]:
    """The tasks a process gets: a Partial update has no copy or discontinued task, and
    the overwrite tasks exist only when asked for (so a Retry cannot run them)."""
    wanted = {"update_compare", "update_cost_prices"}
    if mode == FULL:
        wanted |= {"update_copy_new_products", "update_mark_discontinued"}
    if overwrite_sell_prices:
        wanted.add("update_sell_prices")
    if overwrite_names:
        wanted.add("update_product_names")
    return [step for step in UPDATE_STEPS if step.key in wanted]
