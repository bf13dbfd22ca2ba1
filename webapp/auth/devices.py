"""The browser's sign-in device cookie: a random id and the accounts that signed in on it.

Sign-in throttling counts a known browser's guesses on their own (services/sign_in.py), so
that strangers hammering an account cannot keep its owner out. The cookie is signed, so a
browser cannot claim an account it never signed in to."""

from __future__ import annotations

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from webapp.services.sign_in import Device

COOKIE = "signin_device"
MAX_AGE = 180 * 24 * 3600
MAX_SUBJECTS = 20


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="signin-device")


def current() -> Device | None:
    """This browser's device, if its cookie is present and genuine."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        return None
    subjects = data.get("t") if isinstance(data.get("t"), list) else []
    return Device(id=data["d"], trusted=frozenset(s for s in subjects if isinstance(s, str)))


def trust(response, subject: str):
    """Remember on this browser that `subject` ("user:12") signed in on it."""
    device = current()
    device_id = device.id if device else secrets.token_urlsafe(16)
    subjects = [s for s in (device.trusted if device else ()) if s != subject]
    subjects = [*sorted(subjects)[-(MAX_SUBJECTS - 1) :], subject]
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"d": device_id, "t": subjects}),
        max_age=MAX_AGE,
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", True),
        samesite="Lax",
    )
    return response
