"""The landing page after sign-in: the distributor's accounts or the tenant's dashboard."""

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import PriceList, Product, Storefront
from webapp.scoping import current_organization, org_id

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Distributor staff start at Accounts; a tenant's users at their dashboard."""
    org = current_organization()
    if org.is_root:
        return redirect(url_for("accounts.index"))
    product_count = db.session.scalar(
        select(func.count()).select_from(Product).where(Product.organization_id == org_id())
    )
    price_lists = db.session.scalars(PriceList.in_org(org_id())).all()
    storefront = db.session.scalar(Storefront.in_org(org_id()))
    return render_template(
        "home/tenant_dashboard.html",
        org=org,
        product_count=product_count,
        price_lists=price_lists,
        storefront=storefront,
    )
