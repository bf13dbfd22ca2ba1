"""Optional TOTP two-factor authentication: enrol with a code, sign in with the app's code
or a single-use recovery code, and the distributor can require it for its administrators."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from tests.conftest import Auth, csrf_from
from webapp.extensions import db
from webapp.models import Organization, RecoveryCode, User
from webapp.services.two_factor import current_code

PASSWORD = "demo-password-123"


def _enrol(client) -> tuple[str, list[str]]:
    """Set up two-factor on the account page like a person with an authenticator app."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret = re.search(r'id="secret-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = client.post(
        "/account/two-factor",
        data={"csrf_token": csrf_from(page), "code": current_code(secret)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert "Two-factor authentication is on." in body
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", body)
    assert len(codes) == 10
    return secret, codes


def _sign_out(client):
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(True))})


def _second_step(client, code):
    page = client.get("/login/two-factor")
    assert page.status_code == 200, page.headers.get("Location")
    return client.post(
        "/login/two-factor", data={"csrf_token": csrf_from(page.get_data(True)), "code": code}
    )


def _next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted: clocks may be a step apart), which was
    not used yet; the current one was used up by enrolment."""
    return current_code(secret, time.time() + 30)


def test_enrol_then_sign_in_with_the_apps_code(app, demo, auth, client):
    """After enrolment the password alone does not sign in; the app's code completes it."""
    auth.login()
    secret, _codes = _enrol(client)
    _sign_out(client)
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/two-factor")
    assert client.get("/accounts/").status_code == 302  # not signed in yet
    wrong = _second_step(client, "000000" if _next_code(secret) != "000000" else "111111")
    assert wrong.status_code == 401
    assert "That code is not correct" in wrong.get_data(as_text=True)
    done = _second_step(client, _next_code(secret))
    assert done.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_a_code_cannot_be_used_twice(app, demo, auth, client):
    """A code seen over someone's shoulder is worthless once it was used."""
    auth.login()
    secret, _codes = _enrol(client)
    _sign_out(client)
    auth.login()
    code = _next_code(secret)
    assert _second_step(client, code).status_code == 302
    _sign_out(client)
    auth.login()
    assert _second_step(client, code).status_code == 401


def test_recovery_codes_sign_in_once_each(app, demo, auth, client):
    """A recovery code replaces the app's code once; used again, it fails."""
    auth.login()
    _secret, codes = _enrol(client)
    _sign_out(client)
    auth.login()
    assert _second_step(client, codes[0].upper().replace("-", " ")).status_code == 302
    assert "9 unused recovery codes" in client.get("/account").get_data(as_text=True)
    _sign_out(client)
    auth.login()
    assert _second_step(client, codes[0]).status_code == 401
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert all(code.replace("-", "") not in h for h in hashes for code in codes)


def test_the_second_step_expires_and_needs_the_password_first(app, demo, client):
    """Without a right password a moment before, the second step sends back to sign-in."""
    response = client.get("/login/two-factor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_wrong_codes_are_throttled_like_wrong_passwords(app, demo, auth, client):
    """Guessing codes waits after five failures: 429 even for a right code."""
    auth.login()
    secret, _codes = _enrol(client)
    _sign_out(client)
    auth.login()
    for _ in range(5):
        assert _second_step(client, "12345x").status_code == 401
    assert _second_step(client, _next_code(secret)).status_code == 429


def test_turning_two_factor_off_needs_the_password(app, demo, auth, client):
    """Off with the right password; the wrong one is refused next to the field."""
    auth.login()
    _enrol(client)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    wrong = client.post(
        "/account/two-factor/disable", data={"csrf_token": token, "disable-password": "nope"}
    )
    assert wrong.status_code == 400
    assert 'id="disable-password-error">The password is not correct.' in wrong.get_data(True)
    right = client.post(
        "/account/two-factor/disable", data={"csrf_token": token, "disable-password": PASSWORD}
    )
    assert right.status_code == 303
    _sign_out(client)
    assert auth.login().headers["Location"].endswith("/")


def test_new_recovery_codes_replace_the_old_ones(app, demo, auth, client):
    """Making new codes (password confirmed) shows ten new ones; the old ones stop working."""
    auth.login()
    _secret, old = _enrol(client)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/account/two-factor/recovery-codes",
        data={"csrf_token": token, "codes-password": PASSWORD},
    )
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    _sign_out(client)
    auth.login()
    assert _second_step(client, old[1]).status_code == 401
    assert _second_step(client, new[1]).status_code == 302


def test_distributor_can_require_two_factor_for_administrators(app, demo, auth, client):
    """With the setting on, an administrator without two-factor is sent to set it up from
    every page, and cannot turn it off afterwards."""
    auth.login()
    token = csrf_from(client.get("/settings/security").get_data(as_text=True))
    response = client.post(
        "/settings/security", data={"csrf_token": token, "require_admin_two_factor": "y"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Organization, demo).require_admin_two_factor
    for path in ("/accounts/", "/users", "/settings/security"):
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"].endswith("/account/two-factor"), path
    _enrol(client)
    assert client.get("/accounts/").status_code == 200
    token = csrf_from(client.get("/account").get_data(as_text=True))
    refused = client.post(
        "/account/two-factor/disable", data={"csrf_token": token, "disable-password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "requires two-factor authentication for administrators" in refused.get_data(True)


def test_the_requirement_does_not_apply_to_staff_or_tenants(app, demo, client):
    """Staff users of the distributor are not forced to enrol (it stays optional for them)."""
    from webapp.services.passwords import hash_password

    with app.app_context():
        db.session.get(Organization, demo).require_admin_two_factor = True
        db.session.add(
            User(
                organization_id=demo,
                username="clerk",
                email="clerk@demo.example",
                password_hash=hash_password("clerk-password-123"),
                role="staff",
            )
        )
        db.session.commit()
    Auth(client).login(username="clerk", password="clerk-password-123")
    assert client.get("/accounts/").status_code == 200


def test_an_administrator_turns_off_a_users_two_factor(app, demo, auth, client):
    """For a user who lost their phone and codes: off, signed out, password alone works."""
    from webapp.services.passwords import hash_password

    with app.app_context():
        clerk = User(
            organization_id=demo,
            username="clerk",
            email="clerk@demo.example",
            password_hash=hash_password("clerk-password-123"),
            role="staff",
        )
        db.session.add(clerk)
        db.session.commit()
        clerk_id = clerk.id
    clerk_client = app.test_client()
    Auth(clerk_client).login(username="clerk", password="clerk-password-123")
    _enrol(clerk_client)
    auth.login()
    token = csrf_from(client.get(f"/users/{clerk_id}").get_data(as_text=True))
    response = client.post(f"/users/{clerk_id}/two-factor/reset", data={"csrf_token": token})
    assert response.status_code == 303
    assert clerk_client.get("/accounts/").status_code == 302
    again = Auth(app.test_client()).login(username="clerk", password="clerk-password-123")
    assert again.headers["Location"].endswith("/")
    with app.app_context():
        assert db.session.scalar(select(RecoveryCode.id)) is None
