"""Price lists and products of the signed-in organization."""

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import PriceList, PriceListItem, Product
from webapp.scoping import org_id

bp = Blueprint("pricelists", __name__)

PAGE_SIZE = 100


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
    return render_template("pricelists/list.html", price_lists=price_lists, counts=counts)


@bp.get("/price-lists/<int:price_list_id>")
def view(price_list_id: int):
    """One price list's products with platform and retail price, a page at a time."""
    price_list = PriceList.get_in_org_or_404(price_list_id, org_id())
    page = max(1, request.args.get("page", 1, type=int))
    base = (
        select(PriceListItem, Product)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(
            PriceListItem.price_list_id == price_list.id, PriceListItem.organization_id == org_id()
        )
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        base.order_by(Product.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "pricelists/view.html",
        price_list=price_list,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@bp.get("/products")
def products():
    """The organization's catalogue; a tenant sees its copies with their cost prices."""
    page = max(1, request.args.get("page", 1, type=int))
    query = request.args.get("q", "").strip()
    stmt = Product.in_org(org_id())
    if query:
        stmt = stmt.where(Product.name.ilike(f"%{query}%") | Product.sku.ilike(f"%{query}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = db.session.scalars(
        stmt.order_by(Product.name, Product.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "pricelists/products.html",
        products=items,
        total=total,
        page=page,
        q=query,
        pages=max(1, -(-total // PAGE_SIZE)),
    )
