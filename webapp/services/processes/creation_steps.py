"""The steps of a tenant reseller's creation. Each is small and idempotent: run twice, or
again after a crash halfway, it leaves the same rows as running once. The runner commits a
step's last work together with its task's Completed status."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, literal, select

from webapp.extensions import db
from webapp.models import (
    Account,
    Organization,
    OrgStatus,
    PlatformSetting,
    PriceList,
    PriceListItem,
    Product,
    Storefront,
    TenantStatus,
    User,
    utcnow,
)
from webapp.models.base import UTCDateTime
from webapp.models.organization import Role
from webapp.services import readiness
from webapp.services.catalog import in_range
from webapp.services.client_ids import new_client_id
from webapp.services.processes.batches import copy_in_batches, insert_ignoring_duplicates
from webapp.services.processes.context import StepContext
from webapp.services.processes.errors import StepFailure
from webapp.services.processes.step import Step


def check_prerequisites(ctx: StepContext) -> str:
    """The account must still pass the preparation checklist with the chosen price list."""
    tenant = ctx.tenant
    account = db.session.get(Account, tenant.account_id)
    check = readiness.evaluate(account, tenant.price_list_id)
    problems = check.problems_for(tenant.price_list_id)
    if problems:
        raise StepFailure(
            "The account is no longer ready: "
            + " ".join(problems)
            + " Fix this on the account page, then retry the process."
        )
    ctx.progress(len(check.items), len(check.items))
    return f"All {len(check.items)} checks passed."


def create_organization(ctx: StepContext) -> str:
    """The tenant's own BSS organization, with its Client ID and regional settings."""
    tenant = ctx.tenant
    if tenant.tenant_organization_id is not None:
        org = db.session.get(Organization, tenant.tenant_organization_id)
        return f"Organization already created; Client ID {org.display_client_id}."
    account = db.session.get(Account, tenant.account_id)
    price_list = db.session.get(PriceList, tenant.price_list_id)
    org = Organization(
        parent_id=tenant.organization_id,
        name=account.name,
        client_id=new_client_id(),
        edition=tenant.edition,
        language=tenant.language,
        timezone=tenant.timezone,
        date_format=tenant.date_format,
        currency=price_list.currency,
        status=OrgStatus.IN_PROGRESS,
    )
    db.session.add(org)
    db.session.flush()
    tenant.tenant_organization_id = org.id
    return f"Organization created; Client ID {org.display_client_id}."


def _tenant_org(ctx: StepContext) -> Organization:
    tenant = ctx.tenant
    if tenant.tenant_organization_id is None:
        raise StepFailure("The tenant organization is missing; retry the process.")
    return db.session.get(Organization, tenant.tenant_organization_id)


def create_administrator(ctx: StepContext) -> str:
    """The tenant's administrator with the credentials given in the form."""
    tenant = ctx.tenant
    org = _tenant_org(ctx)
    exists = db.session.scalar(
        select(User.id).where(
            User.organization_id == org.id, User.username == tenant.admin_username
        )
    )
    if exists is None and tenant.invite_admin:
        # Invited: no usable password until they choose one from the welcome email.
        db.session.add(
            User(
                organization_id=org.id,
                username=tenant.admin_username,
                email=tenant.admin_email,
                password_hash="",
                role=Role.ADMIN,
            )
        )
    elif exists is None:
        if not tenant.admin_password_hash:
            raise StepFailure(
                "The administrator's password is no longer available; clean up and start again."
            )
        db.session.add(
            User(
                organization_id=org.id,
                username=tenant.admin_username,
                email=tenant.admin_email,
                password_hash=tenant.admin_password_hash,
                role=Role.ADMIN,
            )
        )
    tenant.admin_password_hash = None  # keep no credential longer than needed
    return f"Administrator {tenant.admin_username} created."


def copy_products(ctx: StepContext) -> str:
    """Every product of the price list in the tenant's range, cost price = its retail
    price there (set-based)."""
    tenant = ctx.tenant
    org = _tenant_org(ctx)
    # Batched by source product id: the price list's unique (price_list_id, product_id) key
    # gives the ranges, and each batch reads both sides by that same range (a merge of two
    # short index ranges), never the whole product table, which holds every tenant's
    # catalogue. The copies are written in source order, as the unique keys index them.
    # The tenant's range (platforms, categories; retired products never): the same
    # conditions pick the keys and the rows.
    wanted = in_range(Product, tenant.range_platform_ids, tenant.range_categories)
    product_ids = (
        select(PriceListItem.product_id)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == tenant.price_list_id, *wanted)
    )
    now = utcnow()
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

    def statement(first: int, last: int):
        source = (
            select(
                literal(org.id),
                Product.platform_id,
                Product.sku,
                Product.name,
                Product.description,
                Product.category,
                Product.billing_period,
                Product.id,
                PriceListItem.retail_price,
                literal(org.currency),
                literal(now, UTCDateTime),
            )
            .join(Product, Product.id == PriceListItem.product_id)
            .where(
                PriceListItem.price_list_id == tenant.price_list_id,
                PriceListItem.product_id.between(first, last),
                Product.id.between(first, last),
                *wanted,
            )
        )
        return insert_ignoring_duplicates(Product.__table__, columns, source)

    # A new pass name: a copy interrupted before this change had cursors over item ids; it
    # starts its ranges again, and ON CONFLICT skips what it had already written.
    total = copy_in_batches(ctx, product_ids, statement, "products", label="by-product")
    return f"{total:,} products copied with their cost prices."


def create_price_list(ctx: StepContext) -> str:
    """The tenant's own default price list, starting at cost (the tenant sets its markup)."""
    org = _tenant_org(ctx)
    name = f"Default {org.currency}"
    price_list = db.session.scalar(PriceList.in_org(org.id).where(PriceList.name == name))
    if price_list is None:
        price_list = PriceList(organization_id=org.id, name=name, currency=org.currency)
        db.session.add(price_list)
        db.session.flush()
    # Batched by source product: the unique (organization_id, source_product_id) index then
    # serves both the batch boundaries and each batch. The tenant's products are all copies.
    source_keys = select(Product.source_product_id).where(
        Product.organization_id == org.id, Product.source_product_id.is_not(None)
    )

    def statement(first: int, last: int):
        source = (
            select(literal(org.id), literal(price_list.id), Product.id, Product.cost_price)
            .where(
                Product.organization_id == org.id,
                Product.source_product_id.between(first, last),
            )
            # Ordered by that index's key, so PostgreSQL walks it even with statistics from
            # before these rows existed (migration 0070 dropped the lone organization_id
            # index it used to walk, the tenant's whole catalogue for every batch).
            .order_by(Product.source_product_id)
        )
        return insert_ignoring_duplicates(
            PriceListItem.__table__,
            ["organization_id", "price_list_id", "product_id", "retail_price"],
            source,
        )

    total = copy_in_batches(ctx, source_keys, statement, "prices")
    return f"Price list {name} created with {total:,} prices."


def setup_provisioning(ctx: StepContext) -> str:
    """Provisioning settings for each platform the tenant's catalogue uses."""
    tenant = ctx.tenant
    org = _tenant_org(ctx)
    platform_ids = db.session.scalars(
        select(Product.platform_id).where(Product.organization_id == org.id).distinct()
    ).all()
    have = set(
        db.session.scalars(
            select(PlatformSetting.platform_id).where(PlatformSetting.organization_id == org.id)
        )
    )
    for platform_id in sorted(set(platform_ids) - have):
        db.session.add(
            PlatformSetting(
                organization_id=org.id,
                platform_id=platform_id,
                inherited_from_organization_id=tenant.organization_id,
            )
        )
    ctx.progress(len(platform_ids), len(platform_ids))
    return f"{len(platform_ids)} provisioning platforms set up."


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "store"


def create_storefront(ctx: StepContext) -> str:
    """The white-label storefront with a unique slug and the account's name as its brand."""
    org = _tenant_org(ctx)
    existing = db.session.scalar(Storefront.in_org(org.id))
    if existing is not None:
        return f"Storefront /store/{existing.slug}/ already created."
    base = slugify(org.name)
    taken = set(
        db.session.scalars(
            select(Storefront.slug).where(
                (Storefront.slug == base) | Storefront.slug.like(f"{base}-%")
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    db.session.add(
        Storefront(
            organization_id=org.id,
            slug=slug,
            brand_name=org.name,
            hero_title=f"Welcome to {org.name}",
            hero_text="Cloud services, ready when you are.",
        )
    )
    return f"Storefront created at /store/{slug}/."


def activate(ctx: StepContext) -> str:
    """Tenant Active; back-ordering stays off until the distributor activates it."""
    tenant = ctx.tenant
    org = _tenant_org(ctx)
    count = db.session.scalar(select(func.count()).where(Product.organization_id == org.id))
    org.status = OrgStatus.ACTIVE
    tenant.status = TenantStatus.ACTIVE
    tenant.back_ordering_active = False
    return f"Tenant reseller active with {count:,} products. Client ID {org.display_client_id}."


CREATION_STEPS: list[Step] = [
    Step("check_prerequisites", "Check prerequisites", check_prerequisites),
    Step("create_organization", "Create organization and Client ID", create_organization),
    Step("create_administrator", "Create administrator", create_administrator),
    Step("copy_products", "Copy products and prices", copy_products, per_item=True),
    Step("create_price_list", "Create default price list", create_price_list, per_item=True),
    Step("setup_provisioning", "Set up provisioning platforms", setup_provisioning),
    Step("create_storefront", "Create storefront", create_storefront),
    Step("activate", "Activate tenant reseller", activate),
]
