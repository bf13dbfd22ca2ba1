"""Orders and subscriptions of the signed-in organization's customers: a page at a time,
sortable, searchable by customer (and order number or product), exportable to CSV."""

from flask import Blueprint, render_template
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload

from webapp.extensions import db
from webapp.listing import Listing, Sorts, csv_response, paginate, stream, wants_csv
from webapp.models import Account, Order, OrderLine, Product, Subscription, TenantReseller
from webapp.scoping import org_id

bp = Blueprint("commerce", __name__)

ORDER_SORTS = Sorts(
    {
        "date": ("Date", (Order.created_at,)),
        "number": ("Order", (Order.number,)),
        "customer": ("Customer", (Account.name,)),
        "type": ("Type", (Order.kind,)),
        "total": ("Total", (Order.total,)),
    },
    tie=Order.id,
    default="date",
    default_desc=True,
)

SUBSCRIPTION_SORTS = Sorts(
    {
        "since": ("Since", (Subscription.created_at,)),
        "customer": ("Customer", (Account.name,)),
        "product": ("Product", (Product.name,)),
        "quantity": ("Quantity", (Subscription.quantity,)),
        "price": ("Unit price", (Subscription.unit_price,)),
        "status": ("Status", (Subscription.status,)),
    },
    tie=Subscription.id,
    default="since",
    default_desc=True,
)


def line_text(order: Order, line: OrderLine) -> str:
    """3 × Product for a New order, +3 × or −2 × for a Change, 1 × Product cancelled."""
    if order.kind == "Change":
        return f"{'+' if line.quantity > 0 else '−'}{abs(line.quantity)} × {line.product.name}"
    if order.kind == "Cancellation":
        return f"{abs(line.quantity)} × {line.product.name} cancelled"
    return f"{line.quantity} × {line.product.name}"


def _order_lines(order: Order) -> str:
    return "; ".join(line_text(order, line) for line in order.lines)


@bp.context_processor
def helpers():
    return {"line_text": line_text}


@bp.get("/orders")
def orders():
    """Orders, newest first by default; search by order number or customer name."""
    listing = Listing.from_request(ORDER_SORTS)
    stmt = (
        Order.in_org(org_id())
        .join(Account, Account.id == Order.account_id)
        .options(
            contains_eager(Order.account),
            selectinload(Order.lines).joinedload(OrderLine.product),
        )
    )
    if listing.q:
        like = f"%{listing.q}%"
        stmt = stmt.where(or_(Order.number.ilike(like), Account.name.ilike(like)))
    if wants_csv():
        return csv_response(
            "orders.csv",
            ["Order", "Customer", "Type", "Lines", "Total", "Currency", "Date"],
            stream(stmt.order_by(*ORDER_SORTS.order_by(listing.sort, listing.descending))),
            lambda o: [
                o.number,
                o.account.name,
                o.kind,
                _order_lines(o),
                o.total,
                o.currency,
                o.created_at.isoformat(timespec="seconds"),
            ],
        )
    pagination = paginate(stmt, listing, ORDER_SORTS)
    return render_template(
        "commerce/orders.html", orders=pagination.items, pagination=pagination, listing=listing
    )


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    """One order with its lines: New, Change (the quantity added or removed) or Cancellation
    (negative amounts); for a back-ordered one, the reseller's order it comes from."""
    row = Order.get_in_org_or_404(order_id, org_id())
    return render_template("commerce/order.html", order=row, source=_source_order(row))


def _source_order(order: Order) -> dict | None:
    """The tenant reseller and its order a back-ordered order was made from (its key is
    "<tenant organization id>:<order number>"), when this organization is its distributor."""
    if not order.source_order_key:
        return None
    tenant_org, _, number = order.source_order_key.partition(":")
    if not tenant_org.isdigit():
        return None
    tenant = db.session.scalar(
        TenantReseller.in_org(org_id()).where(
            TenantReseller.tenant_organization_id == int(tenant_org)
        )
    )
    if tenant is None:
        return None
    original = db.session.scalar(
        select(Order).where(Order.organization_id == int(tenant_org), Order.number == number)
    )
    return {
        "tenant": tenant,
        "number": number,
        "customer": original.account.name if original is not None else None,
        "created_at": original.created_at if original is not None else None,
    }


@bp.get("/subscriptions")
def subscriptions():
    """Subscriptions with customer, product, quantity and price; search by customer or
    product name."""
    listing = Listing.from_request(SUBSCRIPTION_SORTS)
    stmt = (
        Subscription.in_org(org_id())
        .join(Account, Account.id == Subscription.account_id)
        .join(Product, Product.id == Subscription.product_id)
        .options(contains_eager(Subscription.account), contains_eager(Subscription.product))
    )
    if listing.q:
        like = f"%{listing.q}%"
        stmt = stmt.where(or_(Account.name.ilike(like), Product.name.ilike(like)))
    if wants_csv():
        return csv_response(
            "subscriptions.csv",
            ["Customer", "Product", "Quantity", "Unit price", "Currency", "Billing", "Status"]
            + ["Since"],
            stream(stmt.order_by(*SUBSCRIPTION_SORTS.order_by(listing.sort, listing.descending))),
            lambda s: [
                s.account.name,
                s.product.name,
                s.quantity,
                s.unit_price,
                s.currency,
                s.billing_period,
                s.status,
                s.created_at.date().isoformat(),
            ],
        )
    pagination = paginate(stmt, listing, SUBSCRIPTION_SORTS)
    return render_template(
        "commerce/subscriptions.html",
        subscriptions=pagination.items,
        pagination=pagination,
        listing=listing,
    )
