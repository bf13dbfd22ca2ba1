"""Orders and subscriptions of the signed-in organization's customers."""

from flask import Blueprint, render_template

from webapp.extensions import db
from webapp.models import Order, Subscription
from webapp.scoping import org_id

bp = Blueprint("commerce", __name__)


@bp.get("/orders")
def orders():
    """Every order, newest first."""
    rows = db.session.scalars(
        Order.in_org(org_id()).order_by(Order.created_at.desc(), Order.id.desc()).limit(500)
    ).all()
    return render_template("commerce/orders.html", orders=rows)


@bp.get("/subscriptions")
def subscriptions():
    """Every subscription with its customer, product, quantity and price."""
    rows = db.session.scalars(
        Subscription.in_org(org_id()).order_by(Subscription.id.desc()).limit(500)
    ).all()
    return render_template("commerce/subscriptions.html", subscriptions=rows)
