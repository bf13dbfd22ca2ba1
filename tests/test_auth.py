"""Sign-in with Client ID, username and password."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from

SIGN_IN_ERROR = "The Client ID, username or password is not correct."


def test_sign_in_with_right_credentials_lands_on_the_dashboard(demo, auth, client):
    """DEMO / admin / the right password signs in on the distributor's dashboard, whose menu
    leads to the accounts."""
    response = auth.login()
    assert response.status_code == 302
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "how things are going" in page and 'href="/accounts/"' in page
    assert "Northwind Cloud" in client.get("/accounts/").get_data(as_text=True)


def test_client_id_is_case_and_space_insensitive(demo, auth):
    """People type the Client ID in lower case or with spaces; it still works."""
    assert auth.login(client_id=" demo ").status_code == 302


@pytest.mark.parametrize(
    "client_id,username,password",
    [
        ("NOPE", "admin", "demo-password-123"),  # wrong Client ID
        ("DEMO", "nobody", "demo-password-123"),  # unknown user
        ("DEMO", "admin", "wrong-password"),  # wrong password
    ],
)
def test_wrong_credentials_never_say_which_field(demo, auth, client_id, username, password):
    """Every wrong combination gets the same message and a 401, so nothing is enumerated."""
    response = auth.login(client_id, username, password)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert SIGN_IN_ERROR in body
    assert "unknown" not in body.lower()


def test_empty_fields_get_messages_next_to_them(demo, client):
    """A blank form is a 400 with a message per field."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter your Client ID.", "Enter your username.", "Enter your password."):
        assert message in body


def test_sign_in_without_csrf_token_is_refused(demo, client):
    """A form posted without its CSRF token changes nothing and says why."""
    response = client.post(
        "/login", data={"client_id": "DEMO", "username": "admin", "password": "demo-password-123"}
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_repeated_failures_are_throttled_per_user(demo, auth):
    """After five wrong passwords for one user, even the right one waits (429)."""
    for _ in range(5):
        assert auth.login(password="wrong-password").status_code == 401
    response = auth.login()
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)


def test_throttling_one_user_does_not_lock_out_another(demo, auth, app):
    """The per-user limit is keyed by Client ID + username, not global."""
    for _ in range(5):
        auth.login(username="someone-else", password="x")
    assert auth.login().status_code == 302


def test_session_is_renewed_at_sign_in(demo, auth, client):
    """Whatever was in the session before sign-in is gone after it (no fixation)."""
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_sign_out_ends_the_session(demo, auth, client):
    """After Sign out, pages redirect to sign-in again."""
    auth.login()
    token = auth.token("/accounts/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 302


def test_open_redirect_through_next_is_ignored(demo, auth, client):
    """?next= only accepts paths on this site."""
    page = client.get("/login?next=https://evil.example/")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={
            "csrf_token": token,
            "client_id": "DEMO",
            "username": "admin",
            "password": "demo-password-123",
        },
    )
    assert "evil.example" not in response.headers["Location"]


def test_passwords_are_stored_as_argon2id(app, demo):
    """No plain or weak hashes: the demo admin's hash is argon2id."""
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "admin"))
        assert user.password_hash.startswith("$argon2id$")


def test_security_headers_on_every_response(demo, client):
    """CSP without inline script, nosniff and frame-ancestors on the sign-in page."""
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_nul_character_anywhere_is_a_clear_400(demo, client):
    """A NUL in a form field, a query string or a path is refused before any query runs."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "client_id": "x", "username": "a\x00", "password": "p"},
    )
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert client.get("/login?next=%00").status_code == 400
    assert client.get("/store/north%00wind/").status_code == 400


def test_a_request_over_the_size_limit_is_a_clear_413(demo, client):
    """A body above MAX_CONTENT_LENGTH is refused with a page that says what to do."""
    response = client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than 4 MB" in response.get_data(as_text=True)
