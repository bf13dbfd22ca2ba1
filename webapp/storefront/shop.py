"""End customers on the storefront: sign up, sign in, cart, order, their subscriptions."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from webapp.auth import devices
from webapp.extensions import db
from webapp.models import Order, Product, StoreCustomer, Subscription
from webapp.numbers import parse_int
from webapp.services import commerce, sign_in, throttle
from webapp.storefront import bp
from webapp.storefront import customer_session as store_session
from webapp.storefront.forms import QuantityForm, SignUpForm, StoreLoginForm

SIGN_IN_ERROR = "The email or password is not correct."


def _org_id() -> int:
    return g.storefront.organization_id


def current_customer() -> StoreCustomer | None:
    """The signed-in end customer of *this* tenant (a live server-side session), if any."""
    return store_session.current_customer(_org_id())


@bp.app_context_processor
def inject_customer():
    if getattr(g, "storefront", None) is None:
        return {}
    return {
        "store_customer": current_customer(),
        "cart_count": sum(store_session.cart(_org_id()).values()),
    }


def _price_list():
    price_list = commerce.storefront_price_list(g.storefront)
    if price_list is None:
        abort(404)
    return price_list


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an end-customer account (an Account in the tenant's BSS)."""
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            customer = commerce.sign_up(
                _org_id(),
                form.name.data,
                form.email.data,
                form.password.data,
                _price_list().currency,
            )
        except commerce.CommerceError as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            cart = dict(store_session.cart(_org_id()))
            store_session.sign_in(_org_id(), customer)
            store_session.cart(_org_id()).update(cart)  # keep what they put in the cart
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("storefront.cart") if cart else url_for("storefront.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("storefront/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in as an end customer of this store; repeated failures wait longer each time
    (per email, per IP and per store), never a hard lock."""
    form = StoreLoginForm()
    if form.validate_on_submit():
        outcome = sign_in.sign_in_customer(
            _org_id(),
            g.storefront.id,
            form.email.data,
            form.password.data,
            request.remote_addr or "",
            devices.current(),
        )
        if outcome.customer is not None:
            cart = dict(store_session.cart(_org_id()))
            store_session.sign_in(_org_id(), outcome.customer)
            store_session.cart(_org_id()).update(cart)
            response = redirect(
                url_for("storefront.cart") if cart else url_for("storefront.account")
            )
            return devices.trust(response, sign_in.customer_subject(outcome.customer.id))
        if outcome.throttled:
            form.form_errors.append(
                f"Too many sign-in attempts failed. Try again in "
                f"{throttle.describe_wait(outcome.wait_seconds)}, or reset your password."
            )
            page = render_template("storefront/login.html", form=form)
            return page, 429, {"Retry-After": str(outcome.wait_seconds)}
        form.form_errors.append(SIGN_IN_ERROR)
        return render_template("storefront/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("storefront/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out: the session is revoked on the server, not only forgotten by the browser."""
    store_session.sign_out(_org_id())
    flash("You have signed out.", "info")
    return redirect(url_for("storefront.home"))


@bp.post("/cart/add/<int:product_id>")
def cart_add(product_id: int):
    """Put a product in the cart (quantity from the form, default 1)."""
    product = db.session.get(Product, product_id)
    if product is None or product.organization_id != _org_id() or product.discontinued:
        abort(404)  # not on sale here, whatever the reason
    if commerce.price_of(_price_list(), product.id) is None:
        abort(404)
    raw = (request.form.get("quantity") or "1").strip()
    quantity = parse_int(raw, 0, 10**9) or 0
    if not 1 <= quantity <= commerce.MAX_QUANTITY:
        flash(f"Choose a quantity from 1 to {commerce.MAX_QUANTITY:,}.", "error")
        return _render_cart(), 400
    cart = store_session.cart(_org_id())
    cart[str(product.id)] = min(commerce.MAX_QUANTITY, cart.get(str(product.id), 0) + quantity)
    store_session.mark_changed()
    flash(f"{product.name} is in your cart.", "success")
    return redirect(url_for("storefront.cart"), code=303)


@bp.get("/cart")
def cart():
    """The cart with prices of this moment and the total."""
    return _render_cart()


def _render_cart():
    price_list = _price_list()
    lines = commerce.cart_lines(_org_id(), price_list, store_session.cart(_org_id()))
    total = sum((line.total for line in lines), 0)
    return render_template(
        "storefront/cart.html", lines=lines, total=total, currency=price_list.currency
    )


@bp.post("/cart/update")
def cart_update():
    """Change quantities (0 removes the line)."""
    cart = store_session.cart(_org_id())
    for key in list(cart):
        raw = request.form.get(f"qty-{key}")
        if raw is None:
            continue
        quantity = parse_int(raw, 0, 10**9)
        if quantity is None:
            flash("Quantities must be whole numbers.", "error")
            return redirect(url_for("storefront.cart"), code=303)
        if quantity <= 0:
            cart.pop(key)
        else:
            cart[key] = min(quantity, commerce.MAX_QUANTITY)
    store_session.mark_changed()
    return redirect(url_for("storefront.cart"), code=303)


@bp.post("/checkout")
def checkout():
    """Place the order: a subscription per product, billed per period at today's price."""
    customer = current_customer()
    if customer is None:
        flash("Sign in or create an account to place your order; your cart is kept.", "info")
        return redirect(url_for("storefront.login"), code=303)
    price_list = _price_list()
    lines = commerce.cart_lines(_org_id(), price_list, store_session.cart(_org_id()))
    try:
        order = commerce.place_order(customer.account, price_list, lines)
    except commerce.CommerceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("storefront.cart"), code=303)
    store_session.cart(_org_id()).clear()
    store_session.mark_changed()
    flash(f"Thank you! Order {order.number} is placed.", "success")
    return redirect(url_for("storefront.account"), code=303)


def _my_subscription(subscription_id: int) -> Subscription:
    customer = current_customer()
    if customer is None:
        abort(404)
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.organization_id != _org_id() or sub.account_id != customer.account_id:
        abort(404)
    return sub


@bp.get("/account")
def account():
    """The customer's orders and subscriptions."""
    customer = current_customer()
    if customer is None:
        return redirect(url_for("storefront.login"))
    orders = db.session.scalars(
        Order.in_org(_org_id())
        .where(Order.account_id == customer.account_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    subscriptions = db.session.scalars(
        Subscription.in_org(_org_id())
        .where(Subscription.account_id == customer.account_id)
        .order_by(Subscription.id)
    ).all()
    return render_template(
        "storefront/account.html",
        customer=customer,
        orders=orders,
        subscriptions=subscriptions,
        form=QuantityForm(),
    )


@bp.post("/subscriptions/<int:subscription_id>/quantity")
def change_quantity(subscription_id: int):
    sub = _my_subscription(subscription_id)
    form = QuantityForm()
    if not form.validate():
        flash(" ".join(form.quantity.errors) or "Enter a quantity.", "error")
        return redirect(url_for("storefront.account"), code=303)
    try:
        order = commerce.change_quantity(sub, form.quantity.data)
    except commerce.CommerceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Quantity changed to {sub.quantity} (order {order.number}).", "success")
    return redirect(url_for("storefront.account"), code=303)


@bp.get("/subscriptions/<int:subscription_id>/cancel")
def confirm_cancel_subscription(subscription_id: int):
    """Cancelling ends a paid service: say what happens and ask once more."""
    sub = _my_subscription(subscription_id)
    if sub.status != "Active":
        flash("This subscription is not active.", "error")
        return redirect(url_for("storefront.account"), code=303)
    return render_template("storefront/cancel_subscription.html", subscription=sub)


@bp.post("/subscriptions/<int:subscription_id>/cancel")
def cancel_subscription(subscription_id: int):
    sub = _my_subscription(subscription_id)
    if request.form.get("confirm") != "yes":
        return render_template(
            "storefront/cancel_subscription.html",
            subscription=sub,
            error="Tick the box to confirm the cancellation.",
        ), 400
    try:
        order = commerce.cancel(sub)
    except commerce.CommerceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Subscription cancelled (order {order.number}).", "success")
    return redirect(url_for("storefront.account"), code=303)


@bp.app_template_filter("store_money")
def store_money(amount, currency: str) -> str:
    """A price in the store's currency, formatted for the tenant's language."""
    from babel.numbers import format_currency

    locale = (g.store_org.language if getattr(g, "store_org", None) else "en") or "en"
    return format_currency(amount, currency, locale=locale)


@bp.app_template_filter("store_date")
def store_date(moment) -> str:
    """A date in the tenant's time zone and date format."""
    from webapp.services.regional import format_in_org

    return format_in_org(moment, getattr(g, "store_org", None), with_time=False)
