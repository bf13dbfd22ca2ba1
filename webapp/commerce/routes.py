"""Orders and subscriptions of the signed-in organization's customers: a page at a time,
sortable, searchable by customer (and order number or product), exportable to CSV."""

from flask import Blueprint, render_template
from sqlalchemy import or_
from sqlalchemy.orm import contains_eager, selectinload

from webapp.listing import Listing, Sorts, csv_response, paginate, stream, wants_csv
from webapp.models import Account, Order, OrderLine, Product, Subscription
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


def _order_lines(order: Order) -> str:
    return "; ".join(f"{line.quantity} × {line.product.name}" for line in order.lines)


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
