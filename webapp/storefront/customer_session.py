"""End-customer sessions: a cookie of their own, separate from the BSS staff session, keyed by
tenant so a customer of tenant A is nobody at tenant B.

The cookie carries the cart and, once signed in, a session token whose row on the server
(StoreCustomerSession) says who the customer is: sign-out revokes that row, so a copy of the
cookie taken before sign-out reads and changes nothing afterwards."""

from __future__ import annotations

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from webapp.extensions import db
from webapp.models import StoreCustomer
from webapp.services import customer_accounts

COOKIE = "store_session"
MAX_AGE = 30 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="storefront-customer")


def _load() -> dict:
    if "store_session_data" not in g:
        raw = request.cookies.get(COOKIE)
        data = {}
        if raw:
            try:
                data = _serializer().loads(raw, max_age=MAX_AGE)
            except BadSignature:
                data = {}
        g.store_session_data = data if isinstance(data, dict) else {}
    return g.store_session_data


def _tenant_key(org_id: int) -> str:
    return str(org_id)


def tenant_state(org_id: int) -> dict:
    """This tenant's part of the customer session (session token and cart)."""
    state = _load().setdefault(_tenant_key(org_id), {})
    if not isinstance(state, dict):
        state = _load()[_tenant_key(org_id)] = {}
    return state


def mark_changed() -> None:
    g.store_session_changed = True


def save(response):
    """after_request: write the cookie back if it changed."""
    if g.get("store_session_changed"):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(_load()),
            max_age=MAX_AGE,
            httponly=True,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", True),
            samesite="Lax",
        )
    return response


def session_token(org_id: int) -> str | None:
    token = tenant_state(org_id).get("sid")
    return token if isinstance(token, str) else None


def current_customer(org_id: int) -> StoreCustomer | None:
    """The customer whose live server-side session this browser holds for this tenant."""
    cache = g.setdefault("store_customers", {})
    if org_id not in cache:
        cache[org_id] = customer_accounts.customer_for_session(org_id, session_token(org_id))
    return cache[org_id]


def customer_id(org_id: int) -> int | None:
    customer = current_customer(org_id)
    return customer.id if customer is not None else None


def sign_in(org_id: int, customer: StoreCustomer) -> None:
    """A new session at sign-in (the cart is the caller's to keep): recorded on the server."""
    state = tenant_state(org_id)
    customer_accounts.end_session(org_id, session_token(org_id))
    state.clear()
    state["sid"] = customer_accounts.start_session(customer)
    db.session.commit()
    g.setdefault("store_customers", {})[org_id] = customer
    mark_changed()


def sign_out(org_id: int) -> None:
    """Revoke the session on the server and forget it (and the cart) in the browser."""
    customer_accounts.end_session(org_id, session_token(org_id))
    db.session.commit()
    tenant_state(org_id).clear()
    g.setdefault("store_customers", {})[org_id] = None
    mark_changed()


def cart(org_id: int) -> dict[str, int]:
    """{product id (str): quantity}"""
    items = tenant_state(org_id).setdefault("cart", {})
    if not isinstance(items, dict):
        items = tenant_state(org_id)["cart"] = {}
    return items
