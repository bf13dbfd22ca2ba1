"""The landing page after sign-in: the distributor's accounts or the tenant's dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Account, PriceList, Product, Storefront
from webapp.scoping import current_organization, org_id
from webapp.services import playbook as playbook_service
from webapp.services import pricing

bp = Blueprint("home", __name__)

# The storefront branding page belongs to another module; the first of these that the app
# has is linked, else the public storefront itself.
BRANDING_ENDPOINTS = (
    "branding.edit",
    "branding.index",
    "storefront_admin.branding",
    "storefront_admin.index",
    "storefront_settings.index",
)


@dataclass(frozen=True)
class NextStep:
    title: str
    done: bool
    url: str
    action: str
    why: str


def _branding_url(storefront: Storefront | None) -> str:
    for endpoint in BRANDING_ENDPOINTS:
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    if storefront is not None:
        return url_for("storefront.home", slug=storefront.slug)
    return url_for("home.index")


def next_steps(storefront: Storefront | None) -> list[NextStep]:
    """The tenant's own next steps, each computed from the rows, never stored as done."""
    has_customer = (
        db.session.scalar(select(Account.id).where(Account.organization_id == org_id()).limit(1))
        is not None
    )
    return [
        NextStep(
            "Brand your storefront",
            storefront is not None and storefront.branded_at is not None,
            _branding_url(storefront),
            "Brand your storefront",
            "Your logo, colours and welcome text on the shop your customers visit.",
        ),
        NextStep(
            "Set your currency and prices",
            pricing.prices_are_set(org_id()),
            url_for("pricelists.index"),
            "Open your price lists",
            "Your prices start at cost: add your markup, or a price list in your currency.",
        ),
        NextStep(
            "Add your first customer",
            has_customer,
            url_for("accounts.new"),
            "Add a customer",
            "Customers you bill from your own BSS.",
        ),
    ]


@bp.get("/")
def index():
    """Distributor staff start at Accounts; a tenant's users at their dashboard."""
    org = current_organization()
    if org.is_root:
        return redirect(url_for("accounts.index"))
    product_count = db.session.scalar(
        select(func.count()).select_from(Product).where(Product.organization_id == org_id())
    )
    price_lists = db.session.scalars(PriceList.in_org(org_id()).order_by(PriceList.name)).all()
    storefront = db.session.scalar(Storefront.in_org(org_id()))
    return render_template(
        "home/tenant_dashboard.html",
        org=org,
        product_count=product_count,
        price_lists=price_lists,
        storefront=storefront,
        steps=next_steps(storefront),
        playbook=_own_playbook(),
        can_tick=True,
    )


def _own_playbook():
    tenant = playbook_service.tenant_of_org(org_id())
    return playbook_service.playbook(tenant) if tenant is not None else None


@bp.post("/playbook/<key>")
def tick_playbook(key: str):
    """The tenant ticks (or unticks) a playbook item the data does not show as done."""
    org = current_organization()
    if org.is_root or key not in playbook_service.BY_KEY:
        abort(404)
    done = request.form.get("done") == "1"
    playbook_service.tick(org.id, key, current_user, done)
    label = playbook_service.BY_KEY[key].label
    flash(f"{label}: {'done' if done else 'not done'}.", "success")
    return redirect(url_for("home.index") + "#playbook", 303)
