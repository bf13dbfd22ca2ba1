"""The landing page after sign-in: the distributor's overview or the tenant's dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
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
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Account, PriceList, PriceListItem, Product, Storefront
from webapp.models.base import utcnow
from webapp.scoping import current_organization, org_id
from webapp.services import commerce, dashboards, pricing
from webapp.services import playbook as playbook_service

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


def _storefront_sells(storefront: Storefront | None) -> bool:
    if storefront is None:
        return False
    price_list = commerce.storefront_price_list(storefront)
    return price_list is not None and (
        db.session.scalar(
            select(PriceListItem.id).where(PriceListItem.price_list_id == price_list.id).limit(1)
        )
        is not None
    )


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
            # Done only when the storefront also has something to sell: a currency switched
            # to a list without prices empties the shop.
            pricing.prices_are_set(org_id()) and _storefront_sells(storefront),
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


def _distributor_dashboard(org):
    """How tenants, processes and sales are going, and what needs a person."""
    now = utcnow()
    oid = org_id()
    tenants = dashboards.tenants_by_status(oid)
    days = dashboards.processes_per_day(oid, now)
    outcome_totals = {o: sum(d.counts.get(o, 0) for d in days) for o in dashboards.OUTCOMES}
    timings = dashboards.creation_step_timings(oid)
    invoiced = dashboards.invoiced_per_month(oid)
    revenue_charts: dict[str, list] = {}
    for row in invoiced:
        revenue_charts.setdefault(row.currency, []).append(
            dashboards.Bar(row.month, float(row.amount))
        )
    return render_template(
        "home/distributor_dashboard.html",
        org=org,
        tenants=tenants,
        tenants_desc="Tenant resellers per status: "
        + ", ".join(f"{b.label} {b.value}" for b in tenants)
        + ".",
        days=days,
        outcomes=dashboards.OUTCOMES,
        outcome_totals=", ".join(f"{k} {v}" for k, v in outcome_totals.items()) + " in all.",
        timings=timings,
        timing_bars=[dashboards.Bar(t.title, round(t.p95_seconds, 1)) for t in timings],
        revenue_charts=sorted(revenue_charts.items()),
        amount=lambda value: f"{value:,.2f}",
        backordered=dashboards.backordered_orders_per_month(oid),
        attention=dashboards.needs_a_person(
            oid, now, current_app.config["HEARTBEAT_STALE_SECONDS"]
        ),
    )


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for /favicon.ico: answer with the icon, not a 404."""
    icon = Path(current_app.static_folder, "favicon.ico").read_bytes()  # 731 bytes
    response = Response(icon, mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/")
def index():
    """The distributor's overview, or the tenant's dashboard."""
    org = current_organization()
    if org.is_root:
        return _distributor_dashboard(org)
    product_count = db.session.scalar(
        select(func.count()).select_from(Product).where(Product.organization_id == org_id())
    )
    price_lists = db.session.scalars(PriceList.in_org(org_id()).order_by(PriceList.name)).all()
    storefront = db.session.scalar(Storefront.in_org(org_id()))
    now = utcnow()
    return render_template(
        "home/tenant_dashboard.html",
        org=org,
        product_count=product_count,
        price_lists=price_lists,
        storefront=storefront,
        steps=next_steps(storefront),
        orders=dashboards.orders_per_month(org_id(), now),
        active=dashboards.active_subscriptions_per_month(org_id(), now),
        recurring=dashboards.monthly_recurring_revenue(org_id()),
        top=dashboards.top_products(org_id()),
        customers=dashboards.storefront_customers(org_id()),
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
