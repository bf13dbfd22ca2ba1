"""Storefront pages anyone may see: home, catalogue, product, and the brand's stylesheet.

Everything here is scoped to the storefront's tenant organization (g.store_org), and a
product is shown only when the storefront's price list has a price for it."""

from __future__ import annotations

from decimal import Decimal

from babel.core import UnknownLocaleError
from babel.numbers import format_currency
from flask import Response, current_app, g, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Edition, OrgStatus, PriceList, PriceListItem, Product
from webapp.numbers import page_number
from webapp.services.branding import brand_for
from webapp.services.commerce import storefront_price_list
from webapp.services.sanitize import clean_html
from webapp.storefront import bp

PAGE_SIZE = 48
CART_ENDPOINT = "storefront.cart_add"


@bp.before_request
def set_brand():
    g.brand = brand_for(
        g.storefront,
        media_url=lambda name: url_for("media.file", filename=name),
        premium=g.store_org.edition == Edition.PREMIUM,
    )


@bp.before_request
def closed_while_suspended():
    """A suspended tenant's store: every page is the branded "temporarily unavailable"
    page (503), only its stylesheet is served. Registered after set_brand, which it uses."""
    if g.store_org.status == OrgStatus.SUSPENDED and request.endpoint != "storefront.brand_css":
        page = render_template("storefront/suspended.html")
        return page, 503, {"Retry-After": "3600", "Cache-Control": "no-store"}
    return None


def current_price_list() -> PriceList | None:
    """The storefront's price list (its own when set and active, else the tenant's first
    active list in the tenant's currency): the same one the cart and orders use."""
    if "store_price_list" not in g:
        g.store_price_list = storefront_price_list(g.storefront)
    return g.store_price_list


def priced_products(price_list: PriceList):
    """(Product, sell price) of the tenant's products on sale: priced in this list and not
    discontinued (a discontinued product's subscriptions run on; it is sold no more)."""
    org_id = g.store_org.id
    return (
        select(Product, PriceListItem.retail_price)
        .join(PriceListItem, PriceListItem.product_id == Product.id)
        .where(
            PriceListItem.price_list_id == price_list.id,
            PriceListItem.organization_id == org_id,
            Product.organization_id == org_id,
            Product.discontinued.is_(False),
        )
    )


def store_categories() -> list[tuple[str, int]]:
    """(category, number of products on sale) of the tenant's priced products."""
    if "store_category_counts" not in g:
        price_list = current_price_list()
        rows = []
        if price_list is not None:
            org_id = g.store_org.id
            rows = db.session.execute(
                select(Product.category, func.count())
                .join(PriceListItem, PriceListItem.product_id == Product.id)
                .where(
                    PriceListItem.price_list_id == price_list.id,
                    PriceListItem.organization_id == org_id,
                    Product.organization_id == org_id,
                    Product.discontinued.is_(False),
                    Product.category != "",
                )
                .group_by(Product.category)
                .order_by(Product.category)
            ).all()
        g.store_category_counts = [(category, count) for category, count in rows]
    return g.store_category_counts


def store_price(amount: Decimal | None, currency: str) -> str:
    """A price in its currency, formatted for the tenant organization's language."""
    if amount is None:
        return ""
    try:
        return format_currency(amount, currency, locale=g.store_org.language or "en")
    except (UnknownLocaleError, ValueError):
        return format_currency(amount, currency, locale="en")


def marketing_html(product: Product) -> Markup:
    """The product's marketing text: sanitized when saved, and again here."""
    return Markup(clean_html(product.marketing_html))  # noqa: S704 - nh3 output only


@bp.context_processor
def storefront_helpers():
    return {
        "store_price": store_price,
        "store_categories": store_categories,
        # The cart is built elsewhere: "Add to cart" appears once its endpoint exists.
        "cart_enabled": CART_ENDPOINT in current_app.view_functions,
        "cart_endpoint": CART_ENDPOINT,
    }


@bp.get("/")
def home():
    """The storefront's home page: the brand, its hero and the featured categories."""
    return render_template("storefront/home.html", price_list=current_price_list())


@bp.get("/catalogue")
def catalogue():
    """The products on sale, all or one category, with their prices, a page at a time."""
    price_list = current_price_list()
    category = request.args.get("category", "").strip()
    page = page_number(request.args)
    known = dict(store_categories())
    rows, total = [], 0
    status = 200
    if category and category not in known:
        status = 404
    elif price_list is not None:
        stmt = priced_products(price_list)
        if category:
            stmt = stmt.where(Product.category == category)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = db.session.execute(
            stmt.order_by(Product.name, Product.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        ).all()
    return (
        render_template(
            "storefront/catalogue.html",
            price_list=price_list,
            category=category,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            unknown_category=status == 404,
        ),
        status,
    )


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    """One product on sale: name, description, image, marketing text and price. Another
    organization's product, or one without a price here, is not found (in this brand)."""
    price_list = current_price_list()
    row = None
    if price_list is not None:
        row = db.session.execute(
            priced_products(price_list).where(Product.id == product_id)
        ).first()
    if row is None:
        return render_template("storefront/product.html", product=None), 404
    item, price = row
    return render_template(
        "storefront/product.html",
        product=item,
        price=price,
        price_list=price_list,
        marketing=marketing_html(item),
    )


@bp.get("/not-found")
def not_found():
    """Any unknown page under the store (see hosts.py): not found, in the store's brand."""
    return render_template("storefront/product.html", product=None, missing_page=True), 404


@bp.get("/brand.css")
def brand_css():
    """The brand's colours as a stylesheet: CSP allows no inline styles. Every value is a
    validated #rrggbb colour (Brand), so nothing else can reach the CSS."""
    brand = g.brand
    css = (
        f":root {{ --brand-primary: {brand.primary}; --brand-on-primary: {brand.on_primary}; "
        f"--brand-accent: {brand.accent}; --brand-on-accent: {brand.on_accent}; "
        f"--brand-link: {brand.link}; --brand-focus: {brand.focus}; }}\n"
    )
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response
