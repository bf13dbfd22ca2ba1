"""End-customer sessions: a cookie of their own, separate from the BSS staff session, keyed by
tenant so a customer of tenant A is nobody at tenant B."""

from __future__ import annotations

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "store_session"
MAX_AGE = 14 * 24 * 3600


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
    """This tenant's part of the customer session (customer id and cart)."""
    return _load().setdefault(_tenant_key(org_id), {})


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


def customer_id(org_id: int) -> int | None:
    return tenant_state(org_id).get("customer_id")


def sign_in(org_id: int, store_customer_id: int) -> None:
    state = tenant_state(org_id)
    state.clear()  # a new session at sign-in, cart included
    state["customer_id"] = store_customer_id
    mark_changed()


def sign_out(org_id: int) -> None:
    tenant_state(org_id).clear()
    mark_changed()


def cart(org_id: int) -> dict[str, int]:
    """{product id (str): quantity}"""
    return tenant_state(org_id).setdefault("cart", {})
